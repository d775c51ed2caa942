/**
 * What the accuracy backfill adds for live skill: each record's baselines (what the naive forecasters said at
 * the prediction's session, from the bars up to it) and whether the close fell between the signal's conformal
 * levels.
 */
import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationColumns } from './columns.js';

const TABLE = 'lstm_accuracy_record';

export class LiveSkill1764000000000 implements MigrationInterface {
  name = 'LiveSkill1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { types } = migrationColumns(queryRunner);
    await queryRunner.addColumns(TABLE, [
      new TableColumn({ name: 'baselines_json', type: types.jsonText, isNullable: true }),
      new TableColumn({ name: 'levels_covered', type: 'boolean', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn(TABLE, 'levels_covered');
    await queryRunner.dropColumn(TABLE, 'baselines_json');
  }
}
