/** Recognising database errors the same way on MySQL/MariaDB and SQLite. */
import { QueryFailedError } from 'typeorm';

/** A unique or primary key refused the row: someone stored that key first. */
export function isDuplicateKey(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Another process held the database's migration lock longer than this one would wait. */
export class MigrationLockTimeoutError extends Error {
  constructor(database: string, timeoutMs: number) {
    super(
      `could not take the migration lock of ${database} within ${timeoutMs / 1000} s: another process is migrating it ` +
        '(a migration that rewrites a large table can take minutes; raise db_timeouts.migration_lock_ms, or run `lstm-signals migrate` once before starting the others)',
    );
    this.name = 'MigrationLockTimeoutError';
  }
}

/** A file stands where a SQLite database was expected and is not one: opening it would start an empty database. */
export class NotADatabaseFileError extends Error {
  constructor(file: string, reason: string) {
    super(
      `${file} is not an SQLite database (${reason}): refusing to open it, since SQLite would start an empty database in its place. ` +
        'Restore the database from a backup (together with its -wal file), delete the file if an interrupted first run left it, or point db_url at the right file',
    );
    this.name = 'NotADatabaseFileError';
  }
}

/**
 * The database could not be reached, or stopped answering within the configured timeouts: the request may be
 * retried later, nothing about it was wrong. `code` keeps the driver's (ECONNREFUSED, ETIMEDOUT, …).
 */
export class DatabaseUnavailableError extends Error {
  readonly code: string;
  constructor(database: string, reason: string, code = 'ETIMEDOUT') {
    super(`${database} is unavailable: ${reason}`);
    this.name = 'DatabaseUnavailableError';
    this.code = code;
  }
}

/** Driver and Node codes of a server that refused, dropped or never answered the connection. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT']);

/** `error` as a DatabaseUnavailableError naming `database` when it says the server could not be reached; else `error` itself. */
export function asUnavailable(error: unknown, database: string): unknown {
  const cause = error instanceof QueryFailedError ? error.driverError : error;
  if (cause instanceof DatabaseUnavailableError) return cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && UNREACHABLE.has(code) ? new DatabaseUnavailableError(database, (cause as Error).message, code) : error;
}
