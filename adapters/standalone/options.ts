/** Options shared by the CLI commands. */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option } from 'commander';

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

/** `YYYY-MM-DD` and a real calendar day: `17/04/2020`, `2020/01/02` or `2020-02-30` are refused before anything runs. */
export function isoDate(value: string): string {
  const day = new Date(`${value}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) {
    throw new InvalidArgumentError('expected a date as YYYY-MM-DD, e.g. 2020-04-17');
  }
  return value;
}

/** A positive integer, described as `what` when it is not one (e.g. `a job id`). */
export function positiveInteger(what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} (a positive integer)`);
    return n;
  };
}

/** A path that must exist, checked when the command line is parsed, so the error names the option. */
export function existingPath(kind: 'file' | 'file or folder'): (value: string) => string {
  return (value) => {
    let stat;
    try {
      stat = statSync(value);
    } catch {
      throw new InvalidArgumentError(`no such ${kind}`);
    }
    if (kind === 'file' && !stat.isFile()) throw new InvalidArgumentError('not a file');
    return value;
  };
}

/** `--db URL`, the same on every command that opens the database. */
export function dbOption(): Option {
  return new Option('--db <url>', 'database URL (default: $LSTM_DB_URL, else sqlite file lstm-signals.sqlite here)');
}

/** `--config FILE`, the same on every command that runs the plugin. */
export function configOption(): Option {
  return new Option('--config <file>', 'plugin configuration JSON (keys of manifest.json, e.g. {"training": {"fast_params": {"lr": 0.001, "hidden": 16, "epochs": 5}}})').argParser(
    existingPath('file'),
  );
}

/** `--queue-url URL`, on the commands that queue or run trainings across machines. */
export function queueUrlOption(): Option {
  return new Option('--queue-url <url>', 'redis://… : the training queue on BullMQ over that Redis (default: $LSTM_REDIS_URL, else queue.url, else jobs in the database)').argParser((value: string) => {
    if (!/^rediss?:\/\//.test(value)) throw new InvalidArgumentError('not a redis:// or rediss:// URL');
    return value;
  });
}
