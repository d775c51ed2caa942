/**
 * Checks a SQLite database file before SQLite opens it. SQLite takes an empty file for a new database and
 * writes a fresh schema into it, so a database truncated by a failed copy or a full disk would quietly start
 * over empty; any other non-database file fails with SQLite's bare "file is not a database". A missing file
 * is still created (the embedded default's first run), whole: a process starting beside it must never see
 * the empty file SQLite leaves between creating a file and writing its header.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { NotADatabaseFileError } from './errors.js';

/** The first 16 bytes of every SQLite 3 database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** better-sqlite3 ships no types: what is used of it. */
type SqliteDatabase = new (file: string) => { pragma(source: string): unknown; close(): void };

/**
 * Creates `file` as an empty WAL-mode database unless it exists: written under a temporary name and linked into
 * place, which fails if another process got there first (its file is as good).
 */
function createWhole(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.creating`;
  try {
    const Database = createRequire(import.meta.url)('better-sqlite3') as SqliteDatabase;
    const db = new Database(temporary);
    db.pragma('journal_mode = WAL'); // writes the header, WAL mode included
    db.close();
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    for (const leftover of [temporary, `${temporary}-wal`, `${temporary}-shm`]) rmSync(leftover, { force: true });
  }
}

/** Creates `file` when it is missing; throws NotADatabaseFileError when it exists and is not an SQLite database. */
export function prepareSqliteFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    createWhole(file);
    return;
  }
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, head, 0, head.length, 0);
    if (read === 0) throw new NotADatabaseFileError(file, 'it is empty');
    if (read < head.length || !head.equals(SQLITE_HEADER)) throw new NotADatabaseFileError(file, 'it does not start with the SQLite header');
  } finally {
    closeSync(fd);
  }
}
