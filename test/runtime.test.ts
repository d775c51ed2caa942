import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlugin, type LstmSignalsPlugin, type Logger, type SignalEvent } from '../plugin/index.js';
import type { SessionReport } from '../plugin/runtime/session-runner.js';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { SPX_CSV } from './support/spx.js';
import { TINY_TRAINING } from './support/tiny-training.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const FIRST = '2018-04-02';

/** ISO week key (the Monday's date) and month of a YYYY-MM-DD date, computed here independently of the plugin's calendar. */
function weekOf(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

describe('two years of real S&P sessions through the standalone host', () => {
  const lines = readFileSync(SPX_CSV, 'utf8').trim().split('\n');
  const dates = lines.slice(1).map((l) => l.split(',')[0]!);
  const sessions = dates.filter((d) => d >= FIRST);
  let plugin: LstmSignalsPlugin;
  let host: StandaloneHost;
  const signals: SignalEvent[] = [];
  const reports: SessionReport[] = [];

  beforeAll(async () => {
    // History from 2016, so the first triggered training has data before the drive starts.
    const dir = mkdtempSync(path.join(tmpdir(), 'lstm-runtime-'));
    writeFileSync(path.join(dir, 'SPX.csv'), [lines[0], ...lines.slice(1).filter((l) => l >= '2016-01-01')].join('\n'));
    host = new StandaloneHost({ source: new CsvBarSource(dir, { strict: true }), logger: quiet, now: dates[dates.indexOf(FIRST) - 1] });
    plugin = createPlugin({
      db_url: 'sqlite::memory:',
      training: TINY_TRAINING,
      triggers: { lookback_sessions: 300 },
    });
    host.bus.on('lstm:signal', (e: SignalEvent) => signals.push(e));
    host.bus.on('lstm:session:processed', (r: SessionReport) => reports.push(r));
    await plugin.activate(host);
    for (const [i, session] of sessions.entries()) {
      await host.closeSession(session, sessions[i + 1]);
      await plugin.idle();
    }
    await plugin.trainingIdle();
  }, 900_000);
  afterAll(async () => plugin.deactivate());

  it('emits a signal for every session, each made with bars up to that session only', () => {
    expect(sessions.length).toBe(516);
    expect(signals.map((s) => s.signal.as_of)).toEqual(sessions);
    expect(reports.map((r) => r.session)).toEqual(sessions);
    expect(reports.flatMap((r) => r.symbols.map((s) => s.error)).filter(Boolean)).toEqual([]);
  });

  it('tags every LSTM prediction with a version whose data ended on or before the prediction', async () => {
    const runs = await plugin.store!.repos.trainingRun.find();
    const dataEnd = new Map(runs.map((r) => [r.version_id, r.data_end]));
    const predictions = await plugin.store!.repos.predictionLog.find({ where: { source: 'lstm' } });
    // Trainings run in the background, as live: until the first model exists the chain falls back.
    expect(predictions.length).toBeGreaterThan(0);
    for (const p of predictions) expect(dataEnd.get(p.model_version_id)! <= p.predict_date).toBe(true);
    const fallbacks = signals.filter((s) => s.signal.source !== 'lstm');
    for (const f of fallbacks) expect(f.signal.fallback_reasons[0]!.source).toBe('lstm');
    const backfilled = await plugin.store!.repos.accuracyRecord.count();
    expect(backfilled).toBe(sessions.length - 5); // every prediction but the last five has its outcome
  });

  it('fires the calendar triggers on exactly the expected sessions, holidays included', () => {
    const expected = { weekly: [] as string[], monthly: [] as string[], quarterly: [] as string[] };
    sessions.forEach((session, i) => {
      const next = sessions[i + 1];
      // The last session has no next one: it is a Friday, so it ends its week and nothing else.
      if (!next || weekOf(next) !== weekOf(session)) expected.weekly.push(session);
      if (next && next.slice(0, 7) !== session.slice(0, 7)) {
        expected.monthly.push(session);
        if (['03', '06', '09', '12'].includes(session.slice(5, 7))) expected.quarterly.push(session);
      }
    });
    const fired = (trigger: string) => reports.filter((r) => (r.symbols[0]!.trigger_candidates as string[]).includes(trigger)).map((r) => r.session);
    for (const trigger of ['weekly', 'monthly', 'quarterly'] as const) expect(fired(trigger)).toEqual(expected[trigger]);
    expect(expected.weekly).toContain('2019-04-18'); // Good Friday 2019
    expect(expected.weekly).toContain('2020-04-09'); // Good Friday 2020
    expect(expected.weekly).toContain('2018-12-07'); // closed Wednesday 2018-12-05, but Friday traded
    expect(expected.monthly).toEqual(expect.arrayContaining(['2018-06-29', '2018-12-31', '2019-05-31', '2020-03-31']));
    expect(expected.quarterly).toEqual(['2018-06-29', '2018-09-28', '2018-12-31', '2019-03-29', '2019-06-28', '2019-09-30', '2019-12-31', '2020-03-31']);
  });

  it('runs the highest-priority trigger, at most one training per session, never two of a symbol at once', async () => {
    const decisions = await plugin.store!.repos.triggerDecision.find({ order: { session: 'ASC' } });
    expect(decisions.map((d) => d.session)).toEqual(sessions);
    for (const d of decisions) {
      const order = ['monthly', 'quarterly', 'performance_decay', 'weekly'];
      expect(d.candidates_json).toEqual([...d.candidates_json].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
      expect(d.trigger_type).toBe(d.candidates_json[0] ?? null);
    }
    const jobs = await plugin.store!.repos.trainingJob.find({ order: { id: 'ASC' } });
    expect(jobs.length).toBe(decisions.filter((d) => d.trigger_type).length);
    expect(new Set(jobs.map((j) => j.session)).size).toBe(jobs.length);
    expect(jobs.every((j) => j.status === 'succeeded')).toBe(true);
    for (const [a, b] of jobs.slice(1).map((j, i) => [jobs[i]!, j] as const)) {
      expect(a.finished_at!.getTime()).toBeLessThanOrEqual(b.started_at!.getTime());
    }
    const modes = Object.fromEntries(decisions.filter((d) => d.trigger_type).map((d) => [d.session, d.training_type]));
    expect(modes['2018-06-29']).toBe('full'); // monthly outranks quarterly and weekly
    expect(modes['2019-04-18']).toBe('incremental');
  });
});
