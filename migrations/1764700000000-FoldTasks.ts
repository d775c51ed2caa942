/** The units of a fanned-out training's cross-validation, which any idle worker may claim (see FoldTaskRow). */
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { convertToUtf8mb4, migrationColumns } from './columns.js';

const TABLE = 'lstm_fold_task';

export class FoldTasks1764700000000 implements MigrationInterface {
  name = 'FoldTasks1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { types, datetime, createdAt } = migrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: TABLE,
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'job_id', type: 'integer' },
          { name: 'task_key', type: 'varchar', length: '128' },
          { name: 'symbol', type: 'varchar', length: '32' },
          { name: 'spec_json', type: types.jsonText },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'worker', type: 'varchar', length: '160', isNullable: true },
          datetime('lease_expires_at', true),
          { name: 'result_json', type: types.jsonText, isNullable: true },
          createdAt(),
          datetime('finished_at', true),
        ],
      }),
    );
    await convertToUtf8mb4(queryRunner, [TABLE]);
    await queryRunner.createIndex(TABLE, new TableIndex({ name: 'uq_fold_task', columnNames: ['job_id', 'task_key'], isUnique: true }));
    await queryRunner.createIndex(TABLE, new TableIndex({ name: 'idx_fold_task_status', columnNames: ['status', 'id'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(TABLE);
  }
}
