/** Turns `LSTM_DB_URL` into TypeORM connection options: one URL chooses MySQL or SQLite. */
import path from 'node:path';
import type { Dialect } from './dialect.js';

export const DEFAULT_SQLITE_FILE = 'lstm-signals.sqlite';

export type DatabaseTarget =
  | { dialect: Extract<Dialect, 'sqlite'>; file: string }
  | { dialect: Extract<Dialect, 'mysql'>; host: string; port: number; username: string; password: string; database: string };

/** The URL with any password replaced, safe to log or put in an error. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/**
 * Accepted forms: `mysql://user:pass@host:port/db` (also `mariadb://`), `sqlite:PATH`, `sqlite::memory:`.
 * Unset or empty means the embedded default, a SQLite file in `cwd`.
 */
export function parseDatabaseUrl(url: string | undefined, cwd = process.cwd()): DatabaseTarget {
  if (!url) return { dialect: 'sqlite', file: path.resolve(cwd, DEFAULT_SQLITE_FILE) };
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file) throw new Error(`database URL "${url}" names no SQLite file (use sqlite:PATH or sqlite::memory:)`);
    return { dialect: 'sqlite', file: file === ':memory:' ? file : path.resolve(cwd, file) };
  }
  if (/^(mysql|mariadb):\/\//.test(url)) {
    const parsed = new URL(url);
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (!database) throw new Error(`database URL "${redactUrl(url)}" names no database (mysql://user:pass@host:port/DB)`);
    return {
      dialect: 'mysql',
      host: parsed.hostname,
      port: parsed.port ? Number(parsed.port) : 3306,
      username: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      database,
    };
  }
  throw new Error(`unsupported database URL "${redactUrl(url)}": expected mysql://…, mariadb://…, sqlite:PATH or sqlite::memory:`);
}

/** The database as a person names it in a message: never its password. */
export function describeTarget(target: DatabaseTarget): string {
  if (target.dialect === 'sqlite') return target.file === ':memory:' ? 'the in-memory SQLite database' : `the SQLite database ${target.file}`;
  return `the MySQL database "${target.database}" on ${target.host}:${target.port}`;
}
