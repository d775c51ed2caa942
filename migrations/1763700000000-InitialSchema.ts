/**
 * Creates every table of the plugin on MySQL/MariaDB and SQLite. Written against TypeORM's
 * portable Table API; the few types that must differ per database come from `columnTypes`.
 */
import { Table, TableForeignKey, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';
import { currentVersionForeignKey, migrationColumns } from './columns.js';

export class InitialSchema1763700000000 implements MigrationInterface {
  name = 'InitialSchema1763700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { types, datetime, createdAt: created } = migrationColumns(queryRunner);

    const symbol = (name = 'symbol', isNullable = false): TableColumnOptions => ({ name, type: 'varchar', length: '32', isNullable });
    const versionId = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'varchar', length: '64', ...extra });
    const date = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'date', isNullable });
    const double = (name: string): TableColumnOptions => ({ name, type: 'double' });
    const json = (name: string, isNullable = true): TableColumnOptions => ({ name, type: types.jsonText, isNullable });
    const varchar = (name: string, length: number, isNullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable });
    const id: TableColumnOptions = { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' };
    const createdAt = created();

    await queryRunner.createTable(
      new Table({
        name: 'lstm_bar',
        columns: [
          { ...symbol(), isPrimary: true },
          { ...date('date'), isPrimary: true },
          double('open'),
          double('high'),
          double('low'),
          double('close'),
          double('volume'),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'lstm_model_version',
        columns: [
          versionId('version_id', { isPrimary: true }),
          symbol(),
          varchar('training_type', 16),
          datetime('training_time'),
          date('data_start'),
          date('data_end'),
          json('metadata_json', false),
          { name: 'model_blob', type: types.blob },
          { name: 'blob_bytes', type: 'integer' },
          varchar('checksum', 64),
          createdAt,
        ],
        indices: [new TableIndex({ name: 'idx_model_version_symbol', columnNames: ['symbol', 'training_time'] })],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'lstm_current_version',
        columns: [{ ...symbol(), isPrimary: true }, versionId('version_id'), datetime('updated_at')],
        indices: [new TableIndex({ name: 'idx_current_version_version', columnNames: ['version_id'] })],
        foreignKeys: [currentVersionForeignKey()],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'lstm_training_run',
        columns: [
          id,
          versionId('version_id', { isNullable: true }),
          symbol(),
          varchar('training_type', 16),
          varchar('trigger_type', 24),
          date('data_start', true),
          date('data_end', true),
          json('params_json'),
          json('metrics_json'),
          { name: 'validation_deployed', type: 'boolean' },
          { name: 'validation_reason', type: 'text', isNullable: true },
          json('holdout_metrics_json'),
          double('duration_seconds'),
          createdAt,
        ],
        indices: [new TableIndex({ name: 'idx_training_run_symbol', columnNames: ['symbol', 'created_at'] })],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'lstm_prediction_log',
        columns: [
          id,
          { ...varchar('prediction_set', 64), default: "'live'" },
          symbol(),
          date('predict_date'),
          { name: 'direction', type: 'integer' },
          double('magnitude'),
          double('prob_up'),
          versionId('model_version_id', { default: "''" }),
          varchar('source', 16),
          json('signal_json'),
          createdAt,
        ],
        indices: [
          new TableIndex({
            name: 'uq_prediction_log',
            isUnique: true,
            columnNames: ['prediction_set', 'symbol', 'predict_date', 'source', 'model_version_id'],
          }),
          new TableIndex({ name: 'idx_prediction_log_symbol_date', columnNames: ['symbol', 'predict_date'] }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'lstm_accuracy_record',
        columns: [
          id,
          { name: 'prediction_id', type: 'integer' },
          varchar('prediction_set', 64),
          symbol(),
          date('predict_date'),
          date('actual_date'),
          { name: 'predicted_direction', type: 'integer' },
          { name: 'actual_direction', type: 'integer' },
          double('predicted_magnitude'),
          double('actual_magnitude'),
          double('error_magnitude'),
          { name: 'direction_correct', type: 'boolean' },
          versionId('model_version_id'),
          varchar('source', 16),
          createdAt,
        ],
        indices: [
          new TableIndex({ name: 'uq_accuracy_prediction', isUnique: true, columnNames: ['prediction_id'] }),
          new TableIndex({ name: 'idx_accuracy_symbol_date', columnNames: ['symbol', 'actual_date'] }),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_accuracy_prediction',
            columnNames: ['prediction_id'],
            referencedTableName: 'lstm_prediction_log',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
            onUpdate: 'RESTRICT',
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'lstm_training_failure',
        columns: [
          id,
          symbol(),
          varchar('training_type', 16, true),
          varchar('trigger_type', 24, true),
          { name: 'error_message', type: 'text' },
          createdAt,
        ],
        indices: [new TableIndex({ name: 'idx_training_failure_symbol', columnNames: ['symbol', 'created_at'] })],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'lstm_alert',
        columns: [
          id,
          varchar('alert_type', 32),
          symbol('symbol', true),
          varchar('severity', 16),
          { name: 'message', type: 'text' },
          json('details_json'),
          varchar('dedupe_key', 128),
          varchar('delivery_status', 16),
          { name: 'delivery_attempts', type: 'integer', default: 0 },
          { name: 'last_error', type: 'text', isNullable: true },
          datetime('delivered_at', true),
          createdAt,
        ],
        indices: [
          new TableIndex({ name: 'idx_alert_dedupe', columnNames: ['dedupe_key', 'created_at'] }),
          new TableIndex({ name: 'idx_alert_status', columnNames: ['delivery_status'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Children before parents, so foreign keys never block the drop.
    for (const table of [
      'lstm_alert',
      'lstm_training_failure',
      'lstm_accuracy_record',
      'lstm_prediction_log',
      'lstm_training_run',
      'lstm_current_version',
      'lstm_model_version',
      'lstm_bar',
    ]) {
      await queryRunner.dropTable(table);
    }
  }
}
