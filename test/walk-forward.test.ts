import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, loadVerifiedPredictionSet, type Logger, type PredictionLogRow } from '../plugin/index.js';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { runWalkForward } from '../adapters/standalone/walk-forward.js';
import { SPX_CSV } from './support/spx.js';
import { TINY_TRAINING } from './support/tiny-training.js';
import { sharedDatabases } from './support/shared-databases.js';
import { startWebhook } from './support/webhook.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const lines = readFileSync(SPX_CSV, 'utf8').trim().split('\n');

/** A folder with SPX from `since`, each row after `poisonAfter` (if given) with prices ×3 and volume ×10. */
function dataFolder(since: string, poisonAfter?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lstm-wf-'));
  const rows = lines.slice(1).filter((l) => l >= since).map((l) => {
    const [date, open, high, low, close, adj, volume] = l.split(',');
    if (!poisonAfter || date! <= poisonAfter) return l;
    return [date, ...[open, high, low, close, adj].map((x) => String(Number(x) * 3)), String(Number(volume) * 10)].join(',');
  });
  writeFileSync(path.join(dir, 'SPX.csv'), [lines[0], ...rows].join('\n'));
  return dir;
}

async function predictionsOf(dbUrl: string, set: string): Promise<PredictionLogRow[]> {
  const store = await Store.open({ url: dbUrl, migrate: false });
  try {
    return await store.repos.predictionLog.find({ where: { prediction_set: set }, order: { predict_date: 'ASC' } });
  } finally {
    await store.close();
  }
}

describe('walk-forward over three years of real S&P data', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lstm-wf-db-'));
  const dbUrl = `sqlite:${path.join(dir, 'wf.sqlite')}`;
  let store: Store;
  let sessions: string[];

  beforeAll(async () => {
    const result = await runWalkForward({
      source: new CsvBarSource(dataFolder('2015-06-01'), { strict: true }),
      name: 'wf-3y',
      from: '2017-04-03',
      to: '2020-04-09',
      mode: 'fast',
      dbUrl,
      config: { training: TINY_TRAINING, triggers: { lookback_sessions: 300 } },
      logger: quiet,
    });
    sessions = lines.slice(1).map((l) => l.split(',')[0]!).filter((d) => d >= '2017-04-03' && d <= '2020-04-09');
    expect(result).toMatchObject({ name: 'wf-3y', symbols: ['SPX'], sessions: sessions.length });
    store = await Store.open({ url: dbUrl, migrate: false });
  }, 900_000);
  afterAll(async () => store.close());

  it('predicts every session under the backtest’s prediction set', async () => {
    const predictions = await store.repos.predictionLog.find({ where: { prediction_set: 'wf-3y' }, order: { predict_date: 'ASC' } });
    expect(sessions.length).toBe(761);
    expect(predictions.map((p) => p.predict_date)).toEqual(sessions);
    expect(await store.repos.backtest.findOneByOrFail({ name: 'wf-3y' })).toMatchObject({ date_from: '2017-04-03', date_to: '2020-04-09', sessions: 761, training_type: 'fast' });
  });

  it('trains first on data before the start only, then exactly on the trigger sessions', async () => {
    const runs = await store.repos.trainingRun.find({ order: { id: 'ASC' } });
    expect(runs[0]).toMatchObject({ trigger_type: 'backtest_initial', data_end: '2017-03-31' });
    const decisions = await store.repos.triggerDecision.find({ order: { session: 'ASC' } });
    expect(decisions.map((d) => d.session)).toEqual(sessions);
    const fired = decisions.filter((d) => d.trigger_type);
    // The initial model is a job like every training, then one job per fired trigger.
    const [initial, ...jobs] = await store.repos.trainingJob.find({ order: { id: 'ASC' } });
    expect(initial).toMatchObject({ trigger_type: 'backtest_initial', session: null, status: 'succeeded', version_id: runs[0]!.version_id });
    expect(jobs.map((j) => j.session)).toEqual(fired.map((d) => d.session));
    expect(jobs.every((j) => j.status === 'succeeded')).toBe(true);
    // Each triggered training used data up to its own session, never later.
    const runByVersion = new Map(runs.map((r) => [r.version_id, r]));
    for (const job of jobs) expect(runByVersion.get(job.version_id)!.data_end).toBe(job.session);
    // Every Friday-or-last-session-of-the-week fired at least the weekly trigger.
    const weekEnds = sessions.filter((d, i) => {
      const next = sessions[i + 1];
      return next !== undefined && new Date(`${next}T00:00:00Z`).getUTCDay() <= new Date(`${d}T00:00:00Z`).getUTCDay();
    });
    expect(weekEnds.every((d) => fired.some((f) => f.session === d))).toBe(true);
  });

  it('tags each prediction with a version trained before it: the set verifies', async () => {
    const set = await loadVerifiedPredictionSet(store, 'wf-3y');
    expect(set.bySymbol.SPX!.signals).toHaveLength(761);
    // The initial model exists from the first session; a fallback happens only when the LSTM was unhealthy, and says why.
    const [lstm, fallback] = [set.bySymbol.SPX!.signals.filter((s) => s.source === 'lstm'), set.bySymbol.SPX!.signals.filter((s) => s.source !== 'lstm')];
    expect(lstm[0]!.as_of).toBe('2017-04-03');
    expect(lstm.length).toBeGreaterThan(600);
    for (const f of fallback) expect(f.fallback_reasons[0]).toMatchObject({ source: 'lstm', reason: expect.stringMatching(/data through .* days before .*max_days_without_training 30/) });
  });
});

describe('no look-ahead', () => {
  it('changing every bar after D leaves every prediction made at or before D unchanged', async () => {
    const D = '2019-12-13';
    const run = async (poisonAfter?: string) => {
      const dbUrl = `sqlite:${path.join(mkdtempSync(path.join(tmpdir(), 'lstm-la-')), 'la.sqlite')}`;
      await runWalkForward({
        source: new CsvBarSource(dataFolder('2017-01-01', poisonAfter), { strict: true }),
        name: 'look-ahead',
        from: '2019-10-01',
        to: '2020-01-31',
        mode: 'fast',
        dbUrl,
        config: { training: TINY_TRAINING, triggers: { lookback_sessions: 300 } },
        logger: quiet,
      });
      return predictionsOf(dbUrl, 'look-ahead');
    };
    const [clean, poisoned] = [await run(), await run(D)];
    // Version ids carry the wall-clock time of their training: equal models, different names.
    const unnamed = (signal: unknown) => JSON.parse(JSON.stringify(signal).replace(/SPX-\d{8}T\d{9}-[0-9a-f]{4}/g, 'SPX-version'));
    const comparable = (rows: PredictionLogRow[]) =>
      rows.filter((r) => r.predict_date <= D).map((r) => ({ date: r.predict_date, prob_up: r.prob_up, magnitude: r.magnitude, source: r.source, signal: unnamed(r.signal_json) }));
    expect(comparable(poisoned)).toEqual(comparable(clean));
    expect(comparable(clean).length).toBe(53);
    // And after D they do differ: the poison was real.
    expect(poisoned.filter((r) => r.predict_date > D).map((r) => r.signal_json?.current_price)).not.toEqual(clean.filter((r) => r.predict_date > D).map((r) => r.signal_json?.current_price));
  });
});

describe.each(sharedDatabases)('a backtest never reaches the live webhook ($name)', (db) => {
  it('with LSTM_ALERT_WEBHOOK set: nothing is sent, alerts are stored with simulated dates, and the cool-down counts simulated days', async () => {
    const hook = await startWebhook([200]);
    const { url, drop } = await db.create();
    const previous = process.env.LSTM_ALERT_WEBHOOK;
    process.env.LSTM_ALERT_WEBHOOK = hook.url;
    try {
      // No retraining and a model older than a day is "not recent": no_recent_training is active on every session.
      const result = await runWalkForward({
        source: new CsvBarSource(dataFolder('2017-06-01'), { strict: true }),
        name: 'wf-alerts',
        from: '2019-01-02',
        to: '2019-02-15',
        mode: 'fast',
        dbUrl: url,
        config: { training: TINY_TRAINING, triggers: { enabled: false }, max_days_without_training: 1, alerts: { cooldown_hours: 72 } },
        logger: quiet,
      });
      const store = await Store.open({ url, migrate: false });
      try {
        const alerts = await store.repos.alert.find({ where: { alert_type: 'no_recent_training' }, order: { id: 'ASC' } });
        // The cool-down on the simulated clock (each session ends at 23:59:59.999 UTC): raised again once 72 h have passed.
        const sessions = lines.slice(1).map((l) => l.split(',')[0]!).filter((d) => d >= '2019-01-02' && d <= '2019-02-15');
        expect(sessions).toHaveLength(result.sessions);
        const expected: string[] = [];
        for (const session of sessions) {
          const last = expected.at(-1);
          if (!last || Date.parse(`${session}T00:00:00Z`) - Date.parse(`${last}T00:00:00Z`) >= 72 * 3_600_000) expected.push(session);
        }
        expect(expected.length).toBeGreaterThan(8);
        expect(alerts.map((a) => a.created_at.toISOString())).toEqual(expected.map((d) => `${d}T23:59:59.999Z`));
        expect(alerts.map((a) => a.details_json!.as_of)).toEqual(expected);
        expect(new Set(alerts.map((a) => a.delivery_status))).toEqual(new Set(['no_webhook']));
        expect(await store.repos.alert.countBy({ delivery_status: 'no_webhook' })).toBe(await store.repos.alert.count());
      } finally {
        await store.close();
      }
      expect(hook.received).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.LSTM_ALERT_WEBHOOK;
      else process.env.LSTM_ALERT_WEBHOOK = previous;
      await hook.close();
      await drop();
    }
  }, 600_000);
});
