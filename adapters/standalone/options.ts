/** Options shared by the CLI commands. */
import { fileURLToPath } from 'node:url';

/** The S&P 500 data bundled with the package: the default `--data` of every command. */
export const BUNDLED_DATA = fileURLToPath(new URL('../../data/', import.meta.url));

/** `--db` wins over `LSTM_DB_URL`; neither = the embedded SQLite default. */
export function databaseUrl(flag: string | undefined): string | undefined {
  return flag || process.env.LSTM_DB_URL || undefined;
}

/** `A,B , C` → ['A', 'B', 'C']. */
export function symbolList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}
