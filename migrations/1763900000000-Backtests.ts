/** The backtest register: one row per walk-forward run, named like its prediction set. */
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationColumns } from './columns.js';

export class Backtests1763900000000 implements MigrationInterface {
  name = 'Backtests1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { types, createdAt } = migrationColumns(queryRunner);
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
          createdAt(),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('lstm_backtest');
  }
}
