/** The two SQL dialects the store supports, and the column types that differ between them. */
import type { ValueTransformer } from 'typeorm';

export type Dialect = 'mysql' | 'sqlite';

/**
 * MySQL/MariaDB text is utf8mb4 (every character, emoji too; `utf8` stops at three bytes), compared byte for byte
 * as SQLite compares it: uniqueness and lookups agree on both databases and no two emoji compare equal.
 */
export const MYSQL_CHARSET = 'utf8mb4';
export const MYSQL_COLLATION = 'utf8mb4_bin';

/**
 * Column types chosen per dialect. Model bytes need LONGBLOB on MySQL (BLOB stops at 64 KB);
 * JSON documents use LONGTEXT there for the same reason. SQLite's BLOB/TEXT have no such limit.
 */
export function columnTypes(dialect: Dialect) {
  return {
    blob: dialect === 'mysql' ? ('longblob' as const) : ('blob' as const),
    jsonText: dialect === 'mysql' ? ('longtext' as const) : ('text' as const),
    /** Messages and reasons: MEDIUMTEXT on MySQL, since a utf8mb4 TEXT holds as few as 16,383 characters. */
    text: dialect === 'mysql' ? ('mediumtext' as const) : ('text' as const),
    /** Microseconds on MySQL (its DATETIME keeps whole seconds by default); SQLite keeps milliseconds in text. */
    datetime: dialect === 'mysql' ? { type: 'datetime' as const, precision: 6 } : { type: 'datetime' as const },
  };
}

/** Stores a JSON document in a text column; `null` stays SQL NULL. */
export const jsonTransformer: ValueTransformer = {
  to: (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value)),
  from: (value: string | null) => (value === null || value === undefined ? null : JSON.parse(value)),
};
