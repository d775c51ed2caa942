/** Options shared by the CLI commands. */
import { fileURLToPath } from 'node:url';
import { Option } from 'commander';

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

/** `--db URL`, the same on every command that opens the database. */
export function dbOption(): Option {
  return new Option('--db <url>', 'database URL (default: $LSTM_DB_URL, else sqlite file lstm-signals.sqlite here)');
}

/** `--config FILE`, the same on every command that runs the plugin. */
export function configOption(): Option {
  return new Option('--config <file>', 'plugin configuration JSON (keys of manifest.json, e.g. {"training": {"fast_params": {"lr": 0.001, "hidden": 16, "epochs": 5}}})');
}
