/**
 * Checks a SQLite database file before SQLite opens it. SQLite takes an empty file for a new database and
 * writes a fresh schema into it, so a database truncated by a failed copy or a full disk would quietly start
 * over empty; any other non-database file fails with SQLite's bare "file is not a database". A missing file
 * is still created: that is the embedded default's first run.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { NotADatabaseFileError } from './errors.js';

/** The first 16 bytes of every SQLite 3 database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Throws NotADatabaseFileError when `file` exists and is not an SQLite database. */
export function assertSqliteFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
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
