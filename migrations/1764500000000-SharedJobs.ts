/**
 * Training jobs any process sharing the database can run: the request's range, the worker that claimed the job and
 * until when (a lease it renews), attempts, the latest progress, and a key that keeps one active job per
 * symbol, mode and session.
 */
import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationColumns } from './columns.js';

const TABLE = 'lstm_training_job';

export class SharedJobs1764500000000 implements MigrationInterface {
  name = 'SharedJobs1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { types, datetime } = migrationColumns(queryRunner);
    await queryRunner.addColumns(TABLE, [
      new TableColumn({ name: 'data_start', type: 'date', isNullable: true }),
      new TableColumn({ name: 'data_end', type: 'date', isNullable: true }),
      new TableColumn({ name: 'worker', type: 'varchar', length: '160', isNullable: true }),
      new TableColumn(datetime('lease_expires_at', true)),
      new TableColumn({ name: 'attempts', type: 'integer', default: 0 }),
      new TableColumn({ name: 'active_key', type: 'varchar', length: '96', isNullable: true }),
      new TableColumn({ name: 'progress_json', type: types.jsonText, isNullable: true }),
    ]);
    await queryRunner.createIndex(TABLE, new TableIndex({ name: 'uq_training_job_active', columnNames: ['active_key'], isUnique: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex(TABLE, 'uq_training_job_active');
    for (const column of ['progress_json', 'active_key', 'attempts', 'lease_expires_at', 'worker', 'data_end', 'data_start']) await queryRunner.dropColumn(TABLE, column);
  }
}
