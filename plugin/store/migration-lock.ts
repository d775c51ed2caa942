/**
 * One process migrates a database at a time. Processes starting together on a fresh database would otherwise
 * each create the same tables (and fail, or wait on each other's table locks with no end); with the lock the
 * others wait, bounded, then find nothing left to apply.
 */
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { describeTarget, type DatabaseTarget } from './database-url.js';
import { MigrationLockTimeoutError } from './errors.js';

/** What is used of better-sqlite3's connection (the package ships no types). */
interface SqliteConnection {
  pragma(source: string, options?: { simple: boolean }): unknown;
  exec(sql: string): void;
  readonly inTransaction: boolean;
}

/** The server-wide lock name for `database` (MySQL refuses names over 64 characters). */
export function migrationLockName(database: string): string {
  const name = `lstm-signals migrations ${database}`;
  return name.length <= 64 ? name : `lstm-signals migrations ${createHash('sha256').update(database).digest('hex').slice(0, 32)}`;
}

/** MySQL/MariaDB: a named lock held by one connection for the whole migration, released when it ends (or the process dies). */
async function withNamedLock<T>(dataSource: DataSource, target: Extract<DatabaseTarget, { dialect: 'mysql' }>, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const name = migrationLockName(target.database);
  const runner = dataSource.createQueryRunner();
  try {
    const [row] = (await runner.query('SELECT GET_LOCK(?, ?) AS got', [name, Math.ceil(timeoutMs / 1000)])) as Array<{ got: number | string | null }>;
    if (Number(row?.got) !== 1) throw new MigrationLockTimeoutError(describeTarget(target), timeoutMs);
    try {
      return await work();
    } finally {
      await runner.query('SELECT RELEASE_LOCK(?)', [name]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * SQLite: one IMMEDIATE transaction around every migration (SQLite's DDL is transactional, so they land together
 * or not at all). A deferred transaction would read first and then fail to write once another process had
 * committed (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out); IMMEDIATE takes the write lock up front.
 */
async function withImmediateTransaction<T>(dataSource: DataSource, target: DatabaseTarget, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const db = (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${Math.max(0, Math.round(timeoutMs))}`);
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw new MigrationLockTimeoutError(describeTarget(target), timeoutMs);
    throw error;
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
  try {
    const result = await work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * Runs `work` (the migrations) holding the database's migration lock, waiting at most `timeoutMs` for it.
 * On SQLite `work` runs inside the lock's transaction, so it must not open one of its own.
 */
export function withMigrationLock<T>(dataSource: DataSource, target: DatabaseTarget, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  return target.dialect === 'mysql' ? withNamedLock(dataSource, target, timeoutMs, work) : withImmediateTransaction(dataSource, target, timeoutMs, work);
}
