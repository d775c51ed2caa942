import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { resolveConfig } from '../../plugin/config.js';
import { BarStore } from '../../plugin/store/bar-store.js';
import { parseDatabaseUrl } from '../../plugin/store/database-url.js';
import { MigrationLockTimeoutError } from '../../plugin/store/errors.js';
import { migrationLockName } from '../../plugin/store/migration-lock.js';
import { Store } from '../../plugin/store/store.js';
import { checkHealth } from '../../plugin/weekly/health.js';
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

describe('corrupt file: a file that is not an SQLite database where one was expected', () => {
  const cases = [
    { what: 'an empty file', content: '', reason: 'it is empty' },
    { what: 'a text file', content: 'symbol,date,close\nSPX,2024-01-02,4742.83\n', reason: 'it does not start with the SQLite header' },
  ];
  it.each(cases)('refuses $what, saying which file and why, and leaves it as it was', async ({ content, reason }) => {
    const file = path.join(scratch, `not-a-database-${cases.findIndex((c) => c.content === content)}.sqlite`);
    writeFileSync(file, content);
    const refused = await Store.open({ url: `sqlite:${file}` }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain(file);
    expect((refused as Error).message).toContain(reason);
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('still creates a missing file, the embedded default’s first run', async () => {
    const file = path.join(scratch, 'first-run.sqlite');
    const store = await Store.open({ url: `sqlite:${file}` });
    expect(await store.pendingMigrations()).toEqual([]);
    await store.close();
    expect(readFileSync(file).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
  });
});

describe('corrupt file: bytes overwritten in the middle of a database', () => {
  it('health reports the failed integrity check as a problem', async () => {
    const file = path.join(scratch, 'corrupted.sqlite');
    const store = await Store.open({ url: `sqlite:${file}` });
    const bars = Array.from({ length: 3000 }, (_, i) => {
      const date = new Date(Date.UTC(2000, 0, 3) + i * 86_400_000).toISOString().slice(0, 10);
      return { symbol: 'SPX', date, open: 100 + i, high: 101 + i, low: 99 + i, close: 100.5 + i, volume: 1e6 + i };
    });
    await new BarStore(store).ingest(bars);
    const config = resolveConfig({ weekly: { output_dir: scratch } });
    expect((await checkHealth(store, config)).problems.filter((p) => /integrity/.test(p))).toEqual([]);
    await store.close();

    const size = statSync(file).size;
    const pageSize = 4096;
    const middlePage = Math.floor(size / pageSize / 2) * pageSize;
    expect(middlePage).toBeGreaterThan(pageSize);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, middlePage);
    closeSync(fd);

    const reopened = await Store.open({ url: `sqlite:${file}`, migrate: false });
    try {
      const health = await checkHealth(reopened, config);
      expect(health.healthy).toBe(false);
      expect(health.problems).toEqual([expect.stringMatching(new RegExp(`^the SQLite database ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} failed its integrity check: .+`))]);
    } finally {
      await reopened.close();
    }
  });
});
