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
import { DatabaseUnavailableError, MigrationLockTimeoutError } from '../../plugin/store/errors.js';
import { migrationLockName } from '../../plugin/store/migration-lock.js';
import { Store, type DatabaseTimeouts } from '../../plugin/store/store.js';
import { checkHealth } from '../../plugin/weekly/health.js';
import { createScratchMysqlDatabase, describeMysql, mysqlUrl } from '../support/databases.js';
import { sharedDatabases } from '../support/shared-databases.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
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

describe.each(sharedDatabases)('concurrent start: four processes migrate a fresh $name database at once', ({ create }) => {
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

/** How many connections the MySQL server has open to `database`. */
async function connectionsTo(database: string): Promise<number> {
  const { createConnection } = await import('mysql2/promise');
  const base = new URL(mysqlUrl!);
  const admin = await createConnection({ host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username), password: decodeURIComponent(base.password) });
  try {
    const [rows] = await admin.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [database]);
    return Number((rows as Array<{ n: number }>)[0]!.n);
  } finally {
    await admin.end();
  }
}

describe.each(sharedDatabases)('concurrent start: another process holds the migration lock of a fresh $name database', ({ create }) => {
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
      // The refused store keeps no connection open: only the holder's is left.
      if (target.dialect === 'mysql') expect(await connectionsTo(target.database)).toBe(1);
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

/** `promise`, or a rejection saying nothing came within `ms` (so a hang fails the test instead of stalling it). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A migrated scratch MariaDB database and a store opened on it through a proxy that can freeze; `test` runs with them,
 * then everything is closed and dropped.
 */
async function withProxiedStore(timeouts: Partial<DatabaseTimeouts>, test: (store: Store, proxy: TcpProxy, database: string) => Promise<void>): Promise<void> {
  const { url, drop } = await createScratchMysqlDatabase();
  const direct = new URL(url);
  await (await Store.open({ url })).close();
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 3306) });
  const proxied = new URL(url);
  proxied.port = String(proxy.port);
  const store = await Store.open({ url: proxied.toString(), migrate: false, timeouts });
  try {
    await test(store, proxy, decodeURIComponent(direct.pathname.slice(1)));
  } finally {
    proxy.thaw();
    await store.close();
    await proxy.close();
    await drop();
  }
}

describeMysql('database frozen: MariaDB stops answering behind a proxy', () => {
  it('a query fails within the timeouts with DatabaseUnavailableError naming the database, and the same store works once the server answers again', async () => {
    const timeouts = { connect_ms: 2_000, query_ms: 3_000 };
    await withProxiedStore(timeouts, async (store, proxy, database) => {
      await store.repos.bar.insert({ symbol: 'SPX', date: '2024-01-02', open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 });
      proxy.freeze();
      // The pooled connection stops answering mid-query; then a connection the pool opens gets no handshake.
      for (const query of [() => store.repos.bar.countBy({ symbol: 'SPX' }), () => store.transaction((manager) => manager.countBy(store.entities.bar, {}))]) {
        const started = Date.now();
        const failed = await within(query().catch((error: unknown) => error), 60_000);
        expect(failed).toBeInstanceOf(DatabaseUnavailableError);
        expect((failed as Error).message).toContain(`the MySQL database "${database}" on 127.0.0.1:${proxy.port} is unavailable`);
        expect(Date.now() - started).toBeGreaterThanOrEqual(timeouts.connect_ms * 0.9);
      }
      proxy.thaw();
      expect(await within(store.repos.bar.countBy({ symbol: 'SPX' }), 60_000)).toBe(1);
      await store.repos.bar.insert({ symbol: 'SPX', date: '2024-01-03', open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 });
      expect(await store.repos.bar.countBy({ symbol: 'SPX' })).toBe(2);
    });
  });
});

describeMysql('database down: nothing listens where the database should be', () => {
  it('opening the store fails at once with DatabaseUnavailableError naming the database', async () => {
    const unused = await startTcpProxy({ host: '127.0.0.1', port: 1 });
    const port = unused.port;
    await unused.close();
    const refused = await within(Store.open({ url: `mysql://root@127.0.0.1:${port}/lstm_down`, migrate: false }).catch((error: unknown) => error), 60_000);
    expect(refused).toBeInstanceOf(DatabaseUnavailableError);
    expect(refused).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringContaining(`the MySQL database "lstm_down" on 127.0.0.1:${port} is unavailable`) });
  });
});

describeMysql('database frozen: every pooled connection is stuck', () => {
  it('a caller waiting for a free connection gives up after acquire_ms with DatabaseUnavailableError', async () => {
    const timeouts = { connect_ms: 20_000, query_ms: 20_000, acquire_ms: 1_000 };
    await withProxiedStore(timeouts, async (store, proxy) => {
      proxy.freeze();
      // mysql2's pool holds ten connections: ten stuck queries take them all (until query_ms or connect_ms).
      const stuck = Array.from({ length: 10 }, () => store.repos.bar.count().catch((error: unknown) => error));
      const started = Date.now();
      const waited = await within(store.repos.bar.count().catch((error: unknown) => error), 60_000);
      expect(waited).toBeInstanceOf(DatabaseUnavailableError);
      expect((waited as Error).message).toContain('no connection came free within 1 s (db_timeouts.acquire_ms)');
      expect(Date.now() - started).toBeLessThan(timeouts.query_ms);
      for (const outcome of await Promise.all(stuck)) expect(outcome).toBeInstanceOf(DatabaseUnavailableError);
      proxy.thaw();
      expect(await within(store.repos.bar.count(), 60_000)).toBe(0);
    });
  });
});
