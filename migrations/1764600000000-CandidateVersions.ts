/**
 * Model versions carry their status: `candidate` from their save until the holdout decision is recorded, then
 * `deployed` (a refused candidate is deleted). Existing versions were all decided or abandoned: `deployed` when a
 * deployed run names them or they are current, else `rejected`.
 */
import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { dialectOf } from './columns.js';

const TABLE = 'lstm_model_version';

export class CandidateVersions1764600000000 implements MigrationInterface {
  name = 'CandidateVersions1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // TypeORM alters a SQLite table by copying it into a new one and dropping the old, which the current version's
    // foreign key refuses once a version is current (and foreign_keys cannot be turned off inside the migration
    // lock's transaction): SQLite's own ADD COLUMN changes the table in place. On MySQL the varchar takes the
    // table's utf8mb4 charset (Utf8mb4Tables).
    if (dialectOf(queryRunner) === 'sqlite') await queryRunner.query(`ALTER TABLE "${TABLE}" ADD COLUMN "status" varchar(16) NOT NULL DEFAULT ('candidate')`);
    else await queryRunner.addColumn(TABLE, new TableColumn({ name: 'status', type: 'varchar', length: '16', default: "'candidate'" }));
    // Booleans are 1/0 on both databases (TINYINT(1) on MySQL).
    await queryRunner.query(
      `UPDATE ${TABLE} SET status = CASE WHEN EXISTS (SELECT 1 FROM lstm_training_run r WHERE r.version_id = ${TABLE}.version_id AND r.validation_deployed = 1)
         OR EXISTS (SELECT 1 FROM lstm_current_version c WHERE c.version_id = ${TABLE}.version_id) THEN 'deployed' ELSE 'rejected' END`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (dialectOf(queryRunner) === 'sqlite') await queryRunner.query(`ALTER TABLE "${TABLE}" DROP COLUMN "status"`);
    else await queryRunner.dropColumn(TABLE, 'status');
  }
}
