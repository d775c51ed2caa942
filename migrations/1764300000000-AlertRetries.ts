/**
 * Alerts are re-sent until they are delivered or too old: each pending alert keeps when it is tried next. Rows
 * left pending by an earlier version are due at once.
 */
import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationColumns } from './columns.js';

const TABLE = 'lstm_alert';

export class AlertRetries1764300000000 implements MigrationInterface {
  name = 'AlertRetries1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { datetime } = migrationColumns(queryRunner);
    await queryRunner.addColumn(TABLE, new TableColumn(datetime('next_attempt_at', true)));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn(TABLE, 'next_attempt_at');
  }
}
