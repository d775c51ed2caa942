/**
 * Every table utf8mb4 on MySQL/MariaDB. The first four migrations created tables in the database's default
 * charset, latin1 on MariaDB before 11.6 and on many older servers, where a deploy reason holding '≥' failed
 * to store. SQLite keeps text as UTF-8 already: nothing to do there.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { convertToUtf8mb4, currentVersionForeignKey, dialectOf } from './columns.js';

const TABLES = [
  'lstm_migrations',
  'lstm_bar',
  'lstm_model_version',
  'lstm_current_version',
  'lstm_training_run',
  'lstm_prediction_log',
  'lstm_accuracy_record',
  'lstm_training_failure',
  'lstm_alert',
  'lstm_training_lock',
  'lstm_training_job',
  'lstm_performance_check',
  'lstm_trigger_decision',
  'lstm_backtest',
];

export class Utf8mb4Tables1764100000000 implements MigrationInterface {
  name = 'Utf8mb4Tables1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (dialectOf(queryRunner) !== 'mysql') return;
    // MySQL commits each ALTER on its own: after a crash half-way the migration runs again, so every step may find
    // its work already done (the key already dropped, a table already converted).
    // MariaDB refuses to convert a column a foreign key uses: the one key on a text column is dropped meanwhile.
    const key = currentVersionForeignKey();
    const currentVersion = await queryRunner.getTable('lstm_current_version');
    if (currentVersion?.foreignKeys.some((existing) => existing.name === key.name)) await queryRunner.dropForeignKey('lstm_current_version', key.name!);
    await convertToUtf8mb4(queryRunner, TABLES);
    await queryRunner.createForeignKey('lstm_current_version', key);
  }

  /** Converting back would turn every character latin1 lacks into '?': the tables stay utf8mb4, which older code reads as well. */
  async down(): Promise<void> {}
}
