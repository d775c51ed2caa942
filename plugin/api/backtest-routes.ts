/**
 * Walk-forward backtests over HTTP. Each backtest lives in a database of its own, `<backtests_dir>/NAME.sqlite`
 * (the walk-forward default), so it is opened per request, never migrated, and closed again.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Route } from '../host.js';
import type { LstmSignalsPlugin } from '../plugin.js';
import type { BacktestRow } from '../store/entities.js';
import { Store } from '../store/store.js';
import { apiRoute, NotFound } from './route.js';
import { inputOf, NAME } from './schemas.js';

interface BacktestView {
  backtest: Omit<BacktestRow, 'report_json'>;
  /** The latest replay per strategy: its reports, direction accuracy and calibration; `{}` before any replay. */
  replays: Record<string, unknown>;
}

/** The backtest's register row and latest replays; undefined when `dir` holds no such backtest. */
async function readBacktest(dir: string, name: string): Promise<BacktestView | undefined> {
  const file = path.join(dir, `${name}.sqlite`);
  // Opening a missing file would create an empty database.
  if (!(await access(file).then(() => true, () => false))) return undefined;
  const store = await Store.open({ url: `sqlite:${file}`, migrate: false });
  try {
    const row = await store.repos.backtest.findOneBy({ name });
    if (!row) return undefined;
    const { report_json, ...backtest } = row;
    return { backtest, replays: report_json ?? {} };
  } finally {
    await store.close();
  }
}

export function backtestRoutes(plugin: LstmSignalsPlugin): Route[] {
  return [
    apiRoute<Record<string, never>, { id: string }>({
      method: 'GET',
      path: '/backtests/:id',
      access: 'public',
      params: inputOf({ id: NAME }, ['id']),
      async handler(_, { id }) {
        const found = await readBacktest(plugin.config.backtests_dir, id);
        // The folder is the server's business, not the caller's.
        if (!found) throw new NotFound(`no backtest ${id} in the backtests folder`);
        return found;
      },
    }),
  ];
}
