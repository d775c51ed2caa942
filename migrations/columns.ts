/**
 * Column definitions the migrations share: the few that differ between MySQL and SQLite, decided once
 * from the connection the migration runs on.
 */
import type { QueryRunner, TableColumnOptions } from 'typeorm';
import { columnTypes } from '../plugin/store/dialect.js';

export function migrationColumns(queryRunner: QueryRunner) {
  const dialect = queryRunner.connection.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
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
