/** The backtest register: one row per walk-forward run, named like its prediction set. */
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columnTypes, type Dialect } from '../plugin/store/dialect.js';

function dialectOf(queryRunner: QueryRunner): Dialect {
  return queryRunner.connection.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
}

export class Backtests1763900000000 implements MigrationInterface {
  name = 'Backtests1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const dialect = dialectOf(queryRunner);
    const types = columnTypes(dialect);
    await queryRunner.createTable(
      new Table({
        name: 'lstm_backtest',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'symbols_json', type: types.jsonText },
          { name: 'date_from', type: 'date' },
          { name: 'date_to', type: 'date' },
          { name: 'training_type', type: 'varchar', length: '16' },
          { name: 'sessions', type: 'integer' },
          { name: 'report_json', type: types.jsonText, isNullable: true },
          { name: 'created_at', ...types.datetime, default: dialect === 'mysql' ? 'CURRENT_TIMESTAMP(6)' : "datetime('now')" },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('lstm_backtest');
  }
}
