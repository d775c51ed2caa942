/**
 * SQLite's own check of the database file's pages (`PRAGMA quick_check`: every page and record well formed; it
 * skips comparing indexes with their tables, which `integrity_check` does at several times the cost). A file
 * damaged on disk, or copied without its `-wal`, is found here rather than by the next query that reads the
 * damaged page. MySQL/MariaDB check their own pages: nothing is run there.
 */
import { describeTarget } from './database-url.js';
import type { Store } from './store.js';

/** What is wrong with the database file, one line per problem; empty when it is sound (always on MySQL). */
export async function checkIntegrity(store: Store): Promise<string[]> {
  if (store.target.dialect !== 'sqlite') return [];
  const failed = (detail: string) => [`${describeTarget(store.target)} failed its integrity check: ${detail}`];
  try {
    const rows: Array<{ quick_check: string }> = await store.dataSource.query('PRAGMA quick_check');
    const errors = rows.map((row) => row.quick_check).filter((line) => line !== 'ok');
    return errors.length === 0 ? [] : failed(errors.join('; '));
  } catch (error) {
    // Damage bad enough stops the check itself (SQLITE_CORRUPT, SQLITE_NOTADB).
    return failed(error instanceof Error ? error.message : String(error));
  }
}
