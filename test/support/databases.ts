/**
 * Which databases a suite runs against. SQLite always; MariaDB/MySQL when LSTM_TEST_MYSQL_URL is set.
 * Under CI=true the MySQL URL is required (test/support/global-setup.ts refuses to run without it).
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { Store } from '../../plugin/store/store.js';
import { MYSQL_URL } from './services.js';

export const mysqlUrl = MYSQL_URL;

/** `describe` that runs only when a MySQL test database is configured. */
export const describeMysql = describe.skipIf(!mysqlUrl);

export interface TestDatabase {
  name: 'sqlite' | 'mysql';
  /** A fresh, empty database: its URL and how to throw it away. */
  create(): Promise<{ url: string; drop: () => Promise<void> }>;
}

/** The databases every storage suite runs against, as `describe.each` rows: SQLite always, MySQL when configured. */
export const testDatabases: TestDatabase[] = [
  { name: 'sqlite', create: async () => ({ url: 'sqlite::memory:', drop: async () => {} }) },
  ...(mysqlUrl ? [{ name: 'mysql' as const, create: createScratchMysqlDatabase }] : []),
];

let scratchCounter = 0;

/**
 * A new, empty database on the configured MySQL server, so test files running in parallel never share tables.
 * Returns its URL and a function that drops it. `charset` overrides the server's default for the database.
 */
export async function createScratchMysqlDatabase(options: { charset?: string } = {}): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!mysqlUrl) throw new Error('createScratchMysqlDatabase needs LSTM_TEST_MYSQL_URL');
  const { createConnection } = await import('mysql2/promise');
  const base = new URL(mysqlUrl);
  const name = `lstm_t_${process.pid}_${Date.now().toString(36)}_${scratchCounter++}`;
  const admin = await createConnection({
    host: base.hostname,
    port: Number(base.port || 3306),
    user: decodeURIComponent(base.username),
    password: decodeURIComponent(base.password),
  });
  await admin.query(`CREATE DATABASE \`${name}\`${options.charset ? ` CHARACTER SET ${options.charset}` : ''}`);
  const url = new URL(mysqlUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

/** A scratch database whose default charset is latin1, as on MariaDB before 11.6 and old MySQL servers. */
export const createLatin1MysqlDatabase = () => createScratchMysqlDatabase({ charset: 'latin1' });

/**
 * A store on a fresh database of `db` for the enclosing suite: opened (and migrated) before its tests,
 * closed and dropped after them. Call the returned function inside tests to get it.
 */
export function useTestStore(db: Pick<TestDatabase, 'create'>): () => Store {
  let store: Store | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const created = await db.create();
    drop = created.drop;
    store = await Store.open({ url: created.url });
  });
  afterAll(async () => {
    await store?.close();
    await drop?.();
  });
  return () => {
    if (!store) throw new Error('the test store is opened in beforeAll');
    return store;
  };
}
