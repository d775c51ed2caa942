/**
 * Which sessions each followed symbol has been processed for, so a session close that did not finish (a crash,
 * the database down) is processed again at the next one.
 */
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { convertToUtf8mb4, migrationColumns } from './columns.js';

const TABLE = 'lstm_session_run';

export class SessionRuns1764400000000 implements MigrationInterface {
  name = 'SessionRuns1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { datetime } = migrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: TABLE,
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'prediction_set', type: 'varchar', length: '64' },
          { name: 'symbol', type: 'varchar', length: '32' },
          { name: 'session', type: 'date' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempts', type: 'integer' },
          // TEXT: convertToUtf8mb4 makes it the MEDIUMTEXT the entity declares (a latin1 MEDIUMTEXT would become LONGTEXT).
          { name: 'error', type: 'text', isNullable: true },
          datetime('updated_at'),
        ],
      }),
    );
    await convertToUtf8mb4(queryRunner, [TABLE]);
    await queryRunner.createIndex(TABLE, new TableIndex({ name: 'uq_session_run', columnNames: ['prediction_set', 'symbol', 'session'], isUnique: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(TABLE);
  }
}
