/**
 * Databases that another process can open too — a SQLite file rather than `:memory:`, and a MariaDB/MySQL scratch
 * database when LSTM_TEST_MYSQL_URL is set — for the suites that run child processes or several stores on one database.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Store } from '../../plugin/store/store.js';
import { createScratchMysqlDatabase, mysqlUrl, type TestDatabase } from './databases.js';

export const sharedDatabases: TestDatabase[] = [
  {
    name: 'sqlite',
    create: async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'lstm-shared-'));
      return { url: `sqlite:${path.join(dir, 'shared.sqlite')}`, drop: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  ...(mysqlUrl ? [{ name: 'mysql' as const, create: () => createScratchMysqlDatabase() }] : []),
];

/** A fresh database of `db` for the enclosing suite, with a store open on it: created before its tests, dropped after. */
export function useSharedDatabase(db: TestDatabase): { url: () => string; store: () => Store } {
  let url: string | undefined;
  let store: Store | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ url, drop } = await db.create());
    store = await Store.open({ url });
  });
  afterAll(async () => {
    await store?.close();
    await drop?.();
  });
  const opened = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the shared database is created in beforeAll');
    return value;
  };
  return { url: () => opened(url), store: () => opened(store) };
}
