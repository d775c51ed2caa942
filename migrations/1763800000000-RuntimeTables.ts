/** Tables of the plugin runtime: the per-symbol training lock, training jobs, decay checks and trigger decisions. */
import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';
import { migrationColumns } from './columns.js';

export class RuntimeTables1763800000000 implements MigrationInterface {
  name = 'RuntimeTables1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { types, datetime, createdAt } = migrationColumns(queryRunner);
    const varchar = (name: string, length: number, isNullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable });
    const id: TableColumnOptions = { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' };
    const symbol = varchar('symbol', 32);

    await queryRunner.createTable(
      new Table({
        name: 'lstm_training_lock',
        columns: [{ ...symbol, isPrimary: true }, varchar('owner', 128), datetime('acquired_at'), datetime('expires_at')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'lstm_training_job',
        columns: [
          id,
          symbol,
          varchar('training_type', 16),
          varchar('trigger_type', 24),
          { name: 'session', type: 'date', isNullable: true },
          varchar('status', 16),
          { name: 'error', type: 'text', isNullable: true },
          { name: 'run_id', type: 'integer', isNullable: true },
          varchar('version_id', 64, true),
          createdAt(),
          datetime('started_at', true),
          datetime('finished_at', true),
        ],
        indices: [
          new TableIndex({ name: 'idx_training_job_status', columnNames: ['status', 'created_at'] }),
          new TableIndex({ name: 'idx_training_job_symbol', columnNames: ['symbol', 'created_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'lstm_performance_check',
        columns: [
          id,
          symbol,
          { name: 'triggered', type: 'boolean' },
          { name: 'recent_avg_error', type: 'double', isNullable: true },
          { name: 'historical_avg_error', type: 'double', isNullable: true },
          { name: 'threshold', type: 'double', isNullable: true },
          { name: 'multiplier', type: 'double' },
          { name: 'n_recent_samples', type: 'integer' },
          { name: 'n_historical_samples', type: 'integer' },
          createdAt('detected_at'),
        ],
        indices: [new TableIndex({ name: 'idx_performance_check_symbol', columnNames: ['symbol', 'detected_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'lstm_trigger_decision',
        columns: [
          id,
          symbol,
          { name: 'session', type: 'date' },
          varchar('trigger_type', 24, true),
          varchar('training_type', 16, true),
          { name: 'reason', type: 'text' },
          { name: 'candidates_json', type: types.jsonText },
          { name: 'job_id', type: 'integer', isNullable: true },
          createdAt(),
        ],
        indices: [new TableIndex({ name: 'uq_trigger_decision', isUnique: true, columnNames: ['symbol', 'session'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['lstm_trigger_decision', 'lstm_performance_check', 'lstm_training_job', 'lstm_training_lock']) {
      await queryRunner.dropTable(table);
    }
  }
}
