import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { parseDatabaseUrl } from '../../plugin/store/database-url.js';
import { MigrationLockTimeoutError } from '../../plugin/store/errors.js';
import { migrationLockName } from '../../plugin/store/migration-lock.js';
import { Store } from '../../plugin/store/store.js';
import { createScratchMysqlDatabase, mysqlUrl } from '../support/databases.js';
import type { StoreProcessMessage } from '../support/store-process.js';

/** better-sqlite3 ships no types: the calls the tests make. */
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => { exec(sql: string): void; close(): void };
const STORE_PROCESS = path.resolve(import.meta.dirname, '../support/store-process.ts');
const MIGRATIONS = migrations.map((migration) => new migration().name);
const scratch = mkdtempSync(path.join(tmpdir(), 'lstm-storage-faults-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The next message of `child`; rejects if it exits first. */
function nextMessage(child: ChildProcess): Promise<StoreProcessMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`store process exited (${signal ?? code}) without a message`));
    child.once('exit', onExit);
    child.once('message', (message: StoreProcessMessage) => {
      child.off('exit', onExit);
      resolve(message);
    });
  });
}

/** Forks `count` processes that open `url` at the same instant; resolves with each one's outcome. */
async function openAtOnce(url: string, count: number): Promise<StoreProcessMessage[]> {
  const children = Array.from({ length: count }, () => fork(STORE_PROCESS, [url], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    await Promise.all(children.map(async (child) => expect(await nextMessage(child)).toEqual({ type: 'ready' })));
    const outcomes = children.map(nextMessage);
    for (const child of children) child.send('go');
    return await Promise.all(outcomes);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function migrationCounts(url: string): Promise<Record<string, number>> {
  const store = await Store.open({ url, migrate: false });
  try {
    const rows: Array<{ name: string; n: string | number }> = await store.dataSource.query('SELECT name, COUNT(*) AS n FROM lstm_migrations GROUP BY name');
    return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
  } finally {
    await store.close();
  }
}

const freshDatabases = [
  { name: 'a fresh SQLite file', create: async () => ({ url: `sqlite:${path.join(scratch, `race-${Date.now()}.sqlite`)}`, drop: async () => {} }) },
  ...(mysqlUrl ? [{ name: 'a fresh MariaDB database', create: () => createScratchMysqlDatabase() }] : []),
];

describe.each(freshDatabases)('concurrent start: four processes migrate $name at once', ({ create }) => {
  it('all open the store, each migration is applied exactly once, none hangs', async () => {
    const { url, drop } = await create();
    try {
      const outcomes = await openAtOnce(url, 4);
      expect(outcomes.map((o) => (o.type === 'failed' ? o.error : o.type))).toEqual(['opened', 'opened', 'opened', 'opened']);
      expect(await migrationCounts(url)).toEqual(Object.fromEntries(MIGRATIONS.map((name) => [name, 1])));
    } finally {
      await drop();
    }
  }, 300_000);
});

/** Holds `url`'s migration lock from another connection, as a process in the middle of migrating would. */
async function holdMigrationLock(url: string): Promise<() => Promise<void>> {
  const target = parseDatabaseUrl(url);
  if (target.dialect === 'sqlite') {
    const db = new Database(target.file);
    db.exec('PRAGMA journal_mode = WAL; BEGIN IMMEDIATE');
    return async () => db.close();
  }
  const { createConnection } = await import('mysql2/promise');
  const connection = await createConnection({ host: target.host, port: target.port, user: target.username, password: target.password, database: target.database });
  await connection.query('SELECT GET_LOCK(?, 0)', [migrationLockName(target.database)]);
  return () => connection.end();
}

describe.each(freshDatabases)('concurrent start: another process holds the migration lock of $name', ({ create }) => {
  it('waits only as long as configured, says which database and how long, and opens once the lock is free', async () => {
    const { url, drop } = await create();
    try {
      const release = await holdMigrationLock(url);
      const target = parseDatabaseUrl(url);
      const started = Date.now();
      const refused = await Store.open({ url, timeouts: { migration_lock_ms: 1_000 } }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(MigrationLockTimeoutError);
      expect((refused as Error).message).toContain(target.dialect === 'sqlite' ? target.file : `"${target.database}"`);
      expect((refused as Error).message).toContain('within 1 s');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      await release();
      const store = await Store.open({ url, timeouts: { migration_lock_ms: 1_000 } });
      expect(await store.pendingMigrations()).toEqual([]);
      await store.close();
    } finally {
      await drop();
    }
  });
});
