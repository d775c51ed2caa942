import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Store, type CalibrationReport } from '../plugin/index.js';
import { liveSkill, type LiveSkillReport } from '../plugin/skill/live-skill.js';
import type { SkillTable } from '../plugin/skill/skill-table.js';
import { runCli } from './support/cli.js';
import { TINY_TRAINING } from './support/tiny-training.js';

const pct = (x: number) => (x * 100).toFixed(1);
const HIT = String.raw`(\d+\.\d)% \[(\d+\.\d)%, (\d+\.\d)%\]`;

/** The rows of the fixed-width skill table under the line that starts with `title`: name, n, hit rate and interval. */
function printedTable(stdout: string, title: string): string[][] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(title));
  expect(start, `no table titled ${title}`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('  ') || / answered \d+ of \d+ sessions itself/.test(line)) break;
    const m = line.match(new RegExp(String.raw`^ {2}(.+?)\s{2,}(\d+)\s{2}${HIT}`));
    expect(m, `row without n and interval: ${line}`).not.toBeNull();
    rows.push(m!.slice(1, 6));
  }
  return rows;
}

/** What the table should print: the subject, then every baseline (the best one marked), each with n, hit rate and interval. */
function expectedRows(table: SkillTable): string[][] {
  return [table.subject, ...table.baselines].map((f, i) => [
    i > 0 && f.name === table.best_baseline.name ? `${f.name} *` : f.name,
    String(f.n),
    pct(f.hit_rate),
    pct(f.hit_rate_interval.low),
    pct(f.hit_rate_interval.high),
  ]);
}

describe('backtest and replay from the command line', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-bt-'));
  const db = `sqlite:${path.join(cwd, 'backtests', 'autumn.sqlite')}`;
  let firstStderr: string;
  let first: {
    walk_forward: { sessions: number; db_url: string };
    runs: Array<{ trades: unknown[] }>;
    reports: Array<{ trade_count: number }>;
    direction_accuracy: Record<string, number | null>;
    skill: Record<string, LiveSkillReport>;
    calibration: CalibrationReport;
  };

  beforeAll(async () => {
    writeFileSync(path.join(cwd, 'tiny.json'), JSON.stringify({ training: TINY_TRAINING, triggers: { lookback_sessions: 300 } }));
    const run = await runCli(['backtest', '--from', '2019-09-03', '--to', '2019-12-31', '--name', 'autumn', '--config', 'tiny.json', '--min-confidence', '1', '--json', '--progress-interval', '0'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    first = JSON.parse(run.stdout);
    firstStderr = run.stderr;
  }, 300_000);

  it('runs the walk-forward into backtests/NAME.sqlite and replays lstm-swing on it', () => {
    expect(first.walk_forward).toMatchObject({ sessions: 84, db_url: `sqlite:${path.join('backtests', 'autumn.sqlite')}` });
    expect(first.reports[0]!.trade_count).toBe(first.runs[0]!.trades.length);
  });

  it('prints its progress on stderr (here every session): index/total, the session, the trainings so far and an ETA', async () => {
    const lines = firstStderr.split('\n').filter((l) => l.startsWith('backtest: '));
    const sessionLine = /^backtest: session (\d+)\/84 (\d{4}-\d\d-\d\d), (\d+) trainings?, (ETA|done in) (\d+ s|\d+ min|\d+ h \d\d min)$/;
    expect(lines[0]).toMatch(/^backtest: 1 initial training done in (\d+ s|\d+ min), 84 sessions to run$/);
    const parsed = lines.slice(1).map((l) => {
      const m = l.match(sessionLine);
      expect(m, l).not.toBeNull();
      return { index: Number(m![1]), session: m![2]!, trainings: Number(m![3]), tail: m![4]! };
    });
    expect(parsed.map((p) => p.index)).toEqual(Array.from({ length: 84 }, (_, i) => i + 1));
    expect(parsed.map((p) => p.tail)).toEqual([...Array<string>(83).fill('ETA'), 'done in']);
    // Trainings only ever add up, from the initial one to every run the backtest's database holds.
    expect(parsed[0]!.trainings).toBeGreaterThanOrEqual(1);
    for (const [i, p] of parsed.entries()) if (i > 0) expect(p.trainings).toBeGreaterThanOrEqual(parsed[i - 1]!.trainings);
    const store = await Store.open({ url: db, migrate: false });
    try {
      expect(parsed.at(-1)!.trainings).toBe(await store.repos.trainingRun.count());
      // The dates are the sessions the walk-forward released, in order: each one logged its prediction.
      const logged = await store.repos.predictionLog.find({ where: { prediction_set: 'autumn' }, select: { predict_date: true }, order: { predict_date: 'ASC' } });
      expect(parsed.map((p) => p.session)).toEqual([...new Set(logged.map((r) => r.predict_date))]);
    } finally {
      await store.close();
    }
    expect(parsed[0]!.session).toBe('2019-09-03');
    expect(parsed.at(-1)!.session).toBe('2019-12-31');
  });

  it('replays a stored set to identical trades, twice, without training', async () => {
    const replay = async () => JSON.parse((await runCli(['backtest', '--replay', 'autumn', '--min-confidence', '1', '--json'], { cwd })).stdout);
    const [a, b] = [await replay(), await replay()];
    expect(a.runs).toEqual(b.runs);
    expect(a.runs).toEqual(first.runs);
    const store = await Store.open({ url: db, migrate: false });
    try {
      // One run per job — the initial model's and the triggered ones' — and nothing from replays.
      expect(await store.repos.trainingRun.count()).toBe(await store.repos.trainingJob.count());
      expect(await store.repos.trainingJob.countBy({ trigger_type: 'backtest_initial' })).toBe(1);
      const registered = await store.repos.backtest.findOneByOrFail({ name: 'autumn' });
      expect(Object.keys(registered.report_json!)).toEqual(['lstm-swing']);
    } finally {
      await store.close();
    }
  });

  it('reports the set’s skill against every baseline: the JSON is liveSkill of the backtest’s database, the text prints its numbers', async () => {
    const store = await Store.open({ url: db, migrate: false });
    let live: LiveSkillReport;
    try {
      live = JSON.parse(JSON.stringify(await liveSkill(store, 'SPX', 'autumn')));
      const registered = await store.repos.backtest.findOneByOrFail({ name: 'autumn' });
      expect((registered.report_json!['lstm-swing'] as { skill: unknown }).skill).toEqual({ SPX: live });
    } finally {
      await store.close();
    }
    expect(first.skill).toEqual({ SPX: live });
    // 84 sessions, the last 5 without an outcome yet; every record keeps its baselines, so the served table has them all.
    expect(live).toMatchObject({ prediction_set: 'autumn', symbol: 'SPX', records: 79, without_baselines: 0 });
    const served = live.served!;
    expect(served.n).toBe(79);
    const arima = TINY_TRAINING!.arima_baseline === false ? [] : ['arima'];
    expect(served.baselines.map((b) => b.name)).toEqual(['majority', 'momentum_5', 'mean_reversion_20', 'technical', ...arima]);
    // direction_accuracy stays in the JSON, and it is the served hit rate beside which the skill now stands.
    expect(first.direction_accuracy.SPX).toBeCloseTo(served.subject.hit_rate, 12);

    const text = await runCli(['backtest', '--replay', 'autumn', '--min-confidence', '1'], { cwd });
    expect(text.code, text.stderr).toBe(0);
    const out = text.stdout;
    expect(out).not.toContain('direction accuracy of the predictions');
    expect(out).toContain(`served signals: ${served.from}..${served.to}, 79 sessions, up-rate ${pct(served.up_rate)}%, reference base rate ${pct(served.reference_base_rate)}%`);
    expect(printedTable(out, 'served signals:')).toEqual(expectedRows(served));
    for (const p of served.paired) {
      const row = out.split('\n').find((l) => new RegExp(`^ {2}${p.baseline}( \\*)?\\s`).test(l) && l.includes(`${p.mcnemar.b}/${p.mcnemar.c}`));
      expect(row, `baseline ${p.baseline} with its McNemar b/c`).toBeDefined();
    }
    const sources = Object.entries(live.by_source);
    if (sources.length === 1) expect(out).toContain(`by source: all 79 from ${sources[0]![0]} (the table above)`);
    else for (const [source, table] of sources) expect(printedTable(out, `source ${source}:`)).toEqual(expectedRows(table));
    for (const [version, t] of Object.entries(live.by_version)) {
      expect(out).toMatch(new RegExp(`^ {2}${version}\\s+${t.n}\\s+${pct(t.subject.hit_rate)}% \\[${pct(t.subject.hit_rate_interval.low)}%, ${pct(t.subject.hit_rate_interval.high)}%\\]\\s+${t.best_baseline.name}\\s+${pct(t.best_baseline.hit_rate)}% \\[`, 'm'));
    }
    const c = live.calibration!;
    expect(out).toContain(`calibration of the served probabilities (n 79): ECE raw ${c.ece_raw.toFixed(3)}, calibrated ${c.ece_calibrated.toFixed(3)}`);
    const cov = live.coverage!;
    expect(cov.n).toBe(79); // every LSTM signal has conformal levels
    expect(out).toContain(
      `between stop-loss and take-profit in ${cov.covered} of 79, ${pct(cov.realised)}% [${pct(cov.interval.low)}%, ${pct(cov.interval.high)}%] vs nominal ${pct(cov.nominal)}%`,
    );
    // The reliability table by confidence level: n, hit rate [interval] and up-rate beside it, as calibration has them.
    const byConfidence = first.calibration.symbols.SPX!.by_confidence;
    expect(Object.values(byConfidence).reduce((sum, b) => sum + b.n, 0)).toBe(79);
    const lines = out.split('\n');
    const header = lines.findIndex((l) => l.startsWith('hit rate per confidence level (predictions of SPX in set autumn)'));
    expect(lines[header + 1]).toMatch(/^ {2}confidence\s+n\s+hit rate \[95% interval\]\s+up-rate/);
    for (const [i, [level, b]] of Object.entries(byConfidence).entries()) {
      expect(lines[header + 2 + i]).toMatch(
        b.n === 0
          ? new RegExp(`^ {2}${level}\\s+0\\s+– \\(no predictions\\)`)
          : new RegExp(`^ {2}${level}\\s+${b.n}\\s+${pct(b.hit_rate!)}% \\[${pct(b.hit_rate_interval.low)}%, ${pct(b.hit_rate_interval.high)}%\\]\\s+${pct(b.up_rate!)}%\\s`),
      );
    }
  });

  it('refuses a tampered set: a prediction credited to a model trained after it', async () => {
    const store = await Store.open({ url: db, migrate: false });
    let date: string;
    try {
      const late = await store.repos.trainingRun.findOneOrFail({ where: {}, order: { data_end: 'DESC' } });
      // Only an LSTM prediction names a model whose training data can be checked; fallbacks name none.
      const early = await store.repos.predictionLog.findOneOrFail({ where: { prediction_set: 'autumn', source: 'lstm' }, order: { predict_date: 'ASC' } });
      date = early.predict_date;
      expect(late.data_end! > date).toBe(true);
      await store.repos.predictionLog.update({ id: early.id }, { model_version_id: late.version_id! });
    } finally {
      await store.close();
    }
    const refused = await runCli(['backtest', '--replay', 'autumn'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(`prediction set autumn refused, \\d+ problem\\(s\\): SPX ${date} \\(#\\d+\\): signal does not match its logged prediction.*model \\S+ was trained on data through 2019-12-\\d\\d, after ${date}`),
    );
  });
});
