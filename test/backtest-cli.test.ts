import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../plugin/index.js';
import { runCli } from './support/cli.js';
import { TINY_TRAINING } from './support/tiny-training.js';

describe('backtest and replay from the command line', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-bt-'));
  const db = `sqlite:${path.join(cwd, 'backtests', 'autumn.sqlite')}`;
  let first: { walk_forward: { sessions: number; db_url: string }; runs: Array<{ trades: unknown[] }>; reports: Array<{ trade_count: number }> };

  beforeAll(async () => {
    writeFileSync(path.join(cwd, 'tiny.json'), JSON.stringify({ training: TINY_TRAINING, triggers: { lookback_sessions: 300 } }));
    const run = await runCli(['backtest', '--from', '2019-09-03', '--to', '2019-12-31', '--name', 'autumn', '--config', 'tiny.json', '--min-confidence', '1', '--json'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    first = JSON.parse(run.stdout);
  }, 300_000);

  it('runs the walk-forward into backtests/NAME.sqlite and replays lstm-swing on it', () => {
    expect(first.walk_forward).toMatchObject({ sessions: 84, db_url: `sqlite:${path.join('backtests', 'autumn.sqlite')}` });
    expect(first.reports[0]!.trade_count).toBe(first.runs[0]!.trades.length);
  });

  it('replays a stored set to identical trades, twice, without training', async () => {
    const replay = async () => JSON.parse((await runCli(['backtest', '--replay', 'autumn', '--min-confidence', '1', '--json'], { cwd })).stdout);
    const [a, b] = [await replay(), await replay()];
    expect(a.runs).toEqual(b.runs);
    expect(a.runs).toEqual(first.runs);
    const store = await Store.open({ url: db, migrate: false });
    try {
      expect(await store.repos.trainingRun.count()).toBe((await store.repos.trainingJob.count()) + 1); // the initial model and the triggered ones, nothing from replays
      const registered = await store.repos.backtest.findOneByOrFail({ name: 'autumn' });
      expect(Object.keys(registered.report_json!)).toEqual(['lstm-swing']);
    } finally {
      await store.close();
    }
  });

  it('refuses a tampered set: a prediction credited to a model trained after it', async () => {
    const store = await Store.open({ url: db, migrate: false });
    try {
      const late = await store.repos.trainingRun.findOneOrFail({ where: {}, order: { data_end: 'DESC' } });
      const early = await store.repos.predictionLog.findOneOrFail({ where: { prediction_set: 'autumn' }, order: { predict_date: 'ASC' } });
      await store.repos.predictionLog.update({ id: early.id }, { model_version_id: late.version_id! });
    } finally {
      await store.close();
    }
    const refused = await runCli(['backtest', '--replay', 'autumn'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/prediction set autumn refused, \d+ problem\(s\): SPX 2019-09-03 \(#\d+\): signal does not match its logged prediction.*model \S+ was trained on data through 2019-12-\d\d, after 2019-09-03/);
  });
});
