/** Recognising database errors the same way on MySQL/MariaDB and SQLite. */
import { QueryFailedError } from 'typeorm';

/** A unique or primary key refused the row: someone stored that key first. */
export function isDuplicateKey(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
