/**
 * Column definitions the migrations share: the few that differ between MySQL and SQLite, decided once
 * from the connection the migration runs on.
 */
import { TableForeignKey, type QueryRunner, type TableColumnOptions } from 'typeorm';
import { columnTypes, MYSQL_CHARSET, MYSQL_COLLATION, type Dialect } from '../plugin/store/dialect.js';

export function dialectOf(queryRunner: QueryRunner): Dialect {
  return queryRunner.connection.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
}

export function migrationColumns(queryRunner: QueryRunner) {
  const dialect = dialectOf(queryRunner);
  const types = columnTypes(dialect);
  const datetime = (name: string, isNullable = false): TableColumnOptions => ({ name, ...types.datetime, isNullable });
  return {
    types,
    datetime,
    /** A creation timestamp filled by the database. */
    createdAt: (name = 'created_at'): TableColumnOptions => ({
      ...datetime(name),
      default: dialect === 'mysql' ? 'CURRENT_TIMESTAMP(6)' : "datetime('now')",
    }),
  };
}

/**
 * Converts `tables` to utf8mb4 on MySQL/MariaDB (a no-op on SQLite). A migration that creates a table calls it
 * after `createTable` and before adding foreign keys to text columns (MariaDB refuses to convert a column a foreign
 * key uses), since TypeORM's Table API cannot name a table's charset and the database's default may be latin1.
 * TEXT columns become MEDIUMTEXT, the type the entities declare: CONVERT widens a latin1 TEXT so anyway to keep its
 * capacity in characters, and a TEXT already in utf8mb4 would not be, leaving two schemas.
 */
export async function convertToUtf8mb4(queryRunner: QueryRunner, tables: string[]): Promise<void> {
  if (dialectOf(queryRunner) !== 'mysql') return;
  const encoding = `CHARACTER SET ${MYSQL_CHARSET} COLLATE ${MYSQL_COLLATION}`;
  for (const table of tables) {
    const texts: Array<{ name: string; nullable: string }> = await queryRunner.query(
      "SELECT COLUMN_NAME AS name, IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND DATA_TYPE = 'text'",
      [table],
    );
    const widen = texts.map((c) => `, MODIFY \`${c.name}\` MEDIUMTEXT ${encoding} ${c.nullable === 'YES' ? 'NULL' : 'NOT NULL'}`);
    await queryRunner.query(`ALTER TABLE \`${table}\` CONVERT TO ${encoding}${widen.join('')}`);
  }
}

/** lstm_current_version's key to its version, so the current version can never be deleted. */
export function currentVersionForeignKey(): TableForeignKey {
  return new TableForeignKey({
    name: 'fk_current_version_version',
    columnNames: ['version_id'],
    referencedTableName: 'lstm_model_version',
    referencedColumnNames: ['version_id'],
    onDelete: 'RESTRICT',
    onUpdate: 'RESTRICT',
  });
}
