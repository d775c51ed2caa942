/**
 * `lstm-signals skill` on a real SQLite database: SPX trained with toy settings through 2019-12-31, then predicted
 * at the sessions of January and February 2020 (the LSTM while its data is fresh, the fallbacks after) and
 * backfilled, so every section has data. The text is checked against the JSON, number by number, and every hit
 * rate it prints must carry its n and its interval.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { createConsoleLogger } from '../adapters/standalone/logger.js';
import { BarStore, createPlugin } from '../plugin/index.js';
import type { SkillReport } from '../plugin/skill/skill-report.js';
import type { ForecasterSkill, SkillTable } from '../plugin/skill/skill-table.js';
import { runCli } from './support/cli.js';

const TRAINING = { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0, holdout_sessions: 20, skill_gate: false };

const pct = (x: number) => (x * 100).toFixed(1);
const HIT = String.raw`(\d+\.\d)% \[(\d+\.\d)%, (\d+\.\d)%\]`;

interface PrintedRow {
  name: string;
  n: number;
  hit: string;
  low: string;
  high: string;
}

/** The rows of the fixed-width table under the line that starts with `title` (name, n, hit rate and interval). */
function printedTable(stdout: string, title: string): PrintedRow[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(title));
  expect(start, `no table titled ${title}`).toBeGreaterThanOrEqual(0);
  expect(lines[start + 1]).toMatch(/^ {2}\S.*\s{2}n\s{2}hit rate \[95% interval\]/);
  const rows: PrintedRow[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('  ') || / answered \d+ of \d+ sessions itself/.test(line)) break;
    const m = line.match(new RegExp(String.raw`^ {2}(.+?)\s{2,}(\d+)\s{2}${HIT}`));
    expect(m, `row without n and interval: ${line}`).not.toBeNull();
    rows.push({ name: m![1]!, n: Number(m![2]), hit: m![3]!, low: m![4]!, high: m![5]! });
  }
  return rows;
}

/** The printed table is the JSON's, row by row: subject first, then every baseline, the best one marked. */
function expectTableMatches(stdout: string, title: string, table: SkillTable): void {
  const expected = (f: ForecasterSkill, best: boolean): PrintedRow => ({
    name: best ? `${f.name} *` : f.name,
    n: f.n,
    hit: pct(f.hit_rate),
    low: pct(f.hit_rate_interval.low),
    high: pct(f.hit_rate_interval.high),
  });
  expect(printedTable(stdout, title)).toEqual([expected(table.subject, false), ...table.baselines.map((b) => expected(b, b.name === table.best_baseline.name))]);
  const header = stdout.split('\n').find((l) => l.startsWith(title))!;
  expect(header).toContain(`${table.from}..${table.to}, ${table.n} sessions, up-rate ${pct(table.up_rate)}%`);
}

describe('lstm-signals skill', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-skill-'));
  const dbUrl = `sqlite:${path.join(cwd, 'skill.sqlite')}`;
  let text: string;
  let report: SkillReport;

  beforeAll(async () => {
    writeFileSync(path.join(cwd, 'tiny.json'), JSON.stringify({ training: TRAINING }));
    const trained = await runCli(['train', '--symbol', 'SPX', '--end', '2019-12-31', '--config', 'tiny.json', '--db', dbUrl], { cwd });
    expect(trained.code, trained.stderr).toBe(0);

    // The live set: a prediction at every session of Jan–Feb 2020, then the backfill as of the last bar.
    const plugin = createPlugin({ db_url: dbUrl, training: TRAINING, triggers: { enabled: false } });
    await plugin.activate(new StandaloneHost({ logger: createConsoleLogger('error') }));
    try {
      const sessions = (await new BarStore(plugin.store!).load('SPX', { from: '2020-01-02', to: '2020-02-28' })).map((b) => b.date);
      for (const asOf of sessions) await plugin.predict('SPX', { asOf });
      expect((await plugin.updateAccuracy('SPX')).written).toHaveLength(sessions.length);
    } finally {
      await plugin.deactivate();
    }

    const [printed, json] = await Promise.all([
      runCli(['skill', '--symbol', 'SPX', '--db', dbUrl, '--config', 'tiny.json'], { cwd }),
      runCli(['skill', '--symbol', 'SPX', '--db', dbUrl, '--config', 'tiny.json', '--json'], { cwd }),
    ]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(json.code, json.stderr).toBe(0);
    text = printed.stdout;
    report = JSON.parse(json.stdout);
  }, 300_000);

  it('gives the live set served by the LSTM and, once its data was 30 days old, by the fallbacks', () => {
    expect(report.live.records).toBe(40);
    expect(report.live.without_baselines).toBe(0);
    expect(report.live.served!.n).toBe(40);
    const sources = Object.keys(report.live.by_source);
    expect(sources).toContain('lstm');
    expect(sources.length).toBeGreaterThan(1);
    expect(report.live.by_source.lstm!.to < '2020-01-31').toBe(true); // data through 2019-12-31, max_days_without_training 30
    expect(Object.values(report.live.by_source).reduce((sum, t) => sum + t.n, 0)).toBe(40);
  });

  it('prints the current model’s verdict with its n, interval and best baseline', () => {
    const c = report.current!;
    expect(report.current_version_id).toBe(report.training!.version_id);
    expect(text).toContain(
      `current model ${report.current_version_id}: ${c.passed ? 'skill shown' : 'no skill shown'} on holdout ${c.from}..${c.to} — hit ${pct(c.hit_rate)}% ` +
        `[${pct(c.hit_rate_interval.low)}%, ${pct(c.hit_rate_interval.high)}%] of ${c.n} vs best baseline ${c.best_baseline.name} ${pct(c.best_baseline.hit_rate)}% [`,
    );
  });

  it('prints the training’s holdout and out-of-fold tables, gate, calibration, conformal coverage and fallback tiers as the JSON has them', () => {
    const skill = report.training!.skill as {
      gate: { enabled: boolean; passed: boolean };
      holdout: SkillTable;
      out_of_fold: SkillTable;
      calibration: { ece_out_of_fold_raw: number; ece_out_of_fold_calibrated_in_sample: number; ece_raw: number; ece_calibrated: number };
      conformal: { coverage: number; realised_coverage: number };
      fallbacks: Record<string, { passed: boolean; n: number; hit_rate: number }>;
    };
    expect(skill.holdout.n).toBe(20);
    expectTableMatches(text, 'holdout:', skill.holdout);
    expectTableMatches(text, 'out of fold', skill.out_of_fold);
    // The out-of-fold table has no ARIMA (a fit per row would cost minutes); the holdout has all five baselines.
    expect(skill.holdout.baselines.map((b) => b.name)).toEqual(['majority', 'momentum_5', 'mean_reversion_20', 'technical', 'arima']);
    expect(text).toMatch(new RegExp(`^skill gate \\(off: .*\\): ${skill.gate.passed ? 'skill shown' : 'no skill shown'} — `, 'm'));
    const cal = skill.calibration;
    expect(text).toContain(
      `ECE out of fold raw ${cal.ece_out_of_fold_raw.toFixed(3)}, calibrated ${cal.ece_out_of_fold_calibrated_in_sample.toFixed(3)} (in sample for the map); ` +
        `holdout (n 20) raw ${cal.ece_raw.toFixed(3)}, calibrated ${cal.ece_calibrated.toFixed(3)}`,
    );
    const covered = Math.round(skill.conformal.realised_coverage * 20);
    expect(text).toMatch(new RegExp(`realised on the holdout ${covered} of 20, ${pct(skill.conformal.realised_coverage)}% \\[\\d+\\.\\d%, \\d+\\.\\d%\\] vs nominal ${pct(skill.conformal.coverage)}%`));
    for (const [tier, s] of Object.entries(skill.fallbacks)) {
      expect(s.n).toBe(20);
      expect(text).toContain(`  ${tier}: ${s.passed ? 'skill shown' : 'no skill shown'} on holdout ${skill.holdout.from}..${skill.holdout.to} — hit ${pct(s.hit_rate)}% [`);
    }
  });

  it('prints the live tables — served, per source, per model version — with ECE and conformal coverage as the JSON has them', () => {
    const live = report.live;
    expectTableMatches(text, 'served signals:', live.served!);
    for (const [source, table] of Object.entries(live.by_source)) expectTableMatches(text, `source ${source}:`, table);
    const versions = Object.entries(live.by_version);
    expect(versions.length).toBeGreaterThan(0);
    for (const [version, t] of versions) {
      const best = t.baselines.find((b) => b.name === t.best_baseline.name)!;
      const line = text.split('\n').find((l) => l.startsWith(`  ${version} `));
      expect(line).toMatch(
        new RegExp(
          `^ {2}${version}\\s+${t.n}\\s+${pct(t.subject.hit_rate)}% \\[${pct(t.subject.hit_rate_interval.low)}%, ${pct(t.subject.hit_rate_interval.high)}%\\]\\s+` +
            `${best.name}\\s+${pct(best.hit_rate)}% \\[${pct(best.hit_rate_interval.low)}%, ${pct(best.hit_rate_interval.high)}%\\]`,
        ),
      );
    }
    const c = live.calibration!;
    expect(c.n).toBe(40);
    expect(text).toContain(`calibration of the served probabilities (n 40): ECE raw ${c.ece_raw.toFixed(3)}, calibrated ${c.ece_calibrated.toFixed(3)}`);
    const cov = live.coverage!;
    expect(cov.n).toBeGreaterThan(0); // the signals whose levels had a stated (conformal) coverage
    expect(cov.n).toBeLessThanOrEqual(40);
    expect(text).toContain(
      `between stop-loss and take-profit in ${cov.covered} of ${cov.n}, ${pct(cov.realised)}% [${pct(cov.interval.low)}%, ${pct(cov.interval.high)}%] vs nominal ${pct(cov.nominal)}%`,
    );
  });

  it('prints the hit rate per confidence level with n, interval and the up-rate beside it', () => {
    const levels = Object.entries(report.by_confidence);
    expect(levels.reduce((sum, [, b]) => sum + b.n, 0)).toBe(40);
    const lines = text.split('\n');
    const header = lines.findIndex((l) => l.startsWith('hit rate per confidence level'));
    expect(lines[header + 1]).toMatch(/^ {2}confidence\s+n\s+hit rate \[95% interval\]\s+up-rate/);
    for (const [i, [level, b]] of levels.entries()) {
      const row = lines[header + 2 + i]!;
      if (b.n === 0) expect(row).toMatch(new RegExp(`^ {2}${level}\\s+0\\s+– \\(no predictions\\)`));
      else {
        expect(row).toMatch(
          new RegExp(`^ {2}${level}\\s+${b.n}\\s+${pct(b.hit_rate!)}% \\[${pct(b.hit_rate_interval.low)}%, ${pct(b.hit_rate_interval.high)}%\\]\\s+${pct(b.up_rate!)}%\\s`),
        );
      }
    }
  });

  it('never prints a hit rate without its n and its interval', () => {
    const lines = text.split('\n');
    // In prose: "hit 57.5% [50.8%, 64.1%] of 226".
    const prose = lines.flatMap((l) => [...l.matchAll(/\bhit (?=\d)/g)].map((m) => ({ line: l, at: m.index! })));
    expect(prose.length).toBeGreaterThan(5);
    for (const { line, at } of prose) expect(line.slice(at)).toMatch(new RegExp(`^hit ${HIT} of \\d+`));
    // In tables: a header with a hit-rate column, and under it every row with an n and an interval (or no predictions at n 0).
    const headers = lines.flatMap((l, i) => (l.includes('hit rate [95% interval]') ? [i] : []));
    // holdout, out of fold, served, each source, the model versions, the confidence levels
    expect(headers.length).toBe(5 + Object.keys(report.live.by_source).length);
    for (const h of headers) {
      for (const row of lines.slice(h + 1)) {
        if (!row.startsWith('  ') || / answered \d+ of \d+ sessions itself/.test(row)) break;
        expect(row).toMatch(new RegExp(`\\s\\d+\\s{2,}(${HIT}|– \\(no predictions\\))`));
      }
    }
  });

  it('says in words when a prediction set has no data', async () => {
    const empty = await runCli(['skill', '--symbol', 'SPX', '--db', dbUrl, '--set', 'nothing-here'], { cwd });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain('live, prediction set nothing-here:\nno backfilled predictions of SPX in set nothing-here yet\n');
    expect(empty.stdout).toContain('hit rate per confidence level: no backfilled predictions of SPX in set nothing-here with a signal yet');
  });

  it('refuses an unknown symbol with exit 2 and says why', async () => {
    const unknown = await runCli(['skill', '--symbol', 'NOPE', '--db', dbUrl], { cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('lstm-signals: skill: no stored bars for NOPE (stored: SPX); ingest or train it first');
  });
});
