import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REPORT_SHEETS,
  SIGNALS_FILE_SCHEMA,
  STATUS_FILE_SCHEMA,
  checkHealth,
  createPlugin,
  resolveConfig,
  Store,
  type LstmSignalsPlugin,
  type Logger,
  type PluginConfigInput,
  type WeeklyRunResult,
} from '../plugin/index.js';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { runCli } from './support/cli.js';
import { testDatabases } from './support/databases.js';
import { SPX_CSV } from './support/spx.js';
import { TINY_TRAINING } from './support/tiny-training.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A data folder: the real S&P series as SPX, its last 1,000 sessions again as AAA, and a CSV without a close column. */
function dataFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lstm-weekly-data-'));
  const lines = readFileSync(SPX_CSV, 'utf8').trim().split('\n');
  writeFileSync(path.join(dir, 'SPX.csv'), [lines[0], ...lines.slice(-1200)].join('\n'));
  writeFileSync(path.join(dir, 'AAA.csv'), [lines[0], ...lines.slice(-1000)].join('\n'));
  writeFileSync(path.join(dir, 'BROKEN.csv'), 'date,open,high,low,volume\n2020-01-02,1,2,0.5,100\n');
  return dir;
}

/** Flips one byte of the symbol's current model in the database (its checksum stays): returns the version. */
async function corruptCurrentModelBytes(store: Store, symbol: string): Promise<string> {
  const versionId = (await store.repos.currentVersion.findOneByOrFail({ symbol })).version_id;
  const { model_blob } = (await store.repos.modelVersion.findOne({ where: { version_id: versionId }, select: { version_id: true, model_blob: true } }))!;
  const flipped = Buffer.from(model_blob!);
  flipped[flipped.length >> 1]! ^= 0xff;
  await store.repos.modelVersion.update({ version_id: versionId }, { model_blob: flipped });
  return versionId;
}

describe.each(testDatabases)('the weekly run on $name', (db) => {
  let plugin: LstmSignalsPlugin;
  let drop: () => Promise<void>;
  let output: string;
  let result: WeeklyRunResult;
  let input: PluginConfigInput;

  beforeAll(async () => {
    const created = await db.create();
    drop = created.drop;
    output = mkdtempSync(path.join(tmpdir(), 'lstm-weekly-out-'));
    const host = new StandaloneHost({ source: new CsvBarSource(dataFolder(), { strict: false }), logger: quiet });
    input = {
      db_url: created.url,
      training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, batch_size: 64, importance_repeats: 0, skill_gate: false, arima_baseline: false },
      weekly: { output_dir: output, lookback_sessions: 700 },
    };
    plugin = createPlugin(input);
    await plugin.activate(host);
    result = await plugin.runWeeklyAnalysis({ now: new Date('2020-04-19T08:30:00Z') });
  });
  afterAll(async () => {
    await plugin.deactivate();
    await drop();
  });

  it('trains the symbols without a model, predicts them, and reports the broken one without stopping', () => {
    expect(result.status).toBe('partial');
    expect(result.signals.map((s) => s.symbol)).toEqual(['AAA', 'SPX']);
    expect(result.retrained.map((r) => [r.symbol, r.deployed, r.reason])).toEqual([
      ['AAA', true, 'first model for this symbol'],
      ['SPX', true, 'first model for this symbol'],
    ]);
    expect(result.failures).toEqual([{ symbol: 'BROKEN', error: expect.stringMatching(/^BROKEN: no bars from the feed: .*close/) }]);
    for (const signal of result.signals) expect(signal).toMatchObject({ as_of: '2020-04-17', source: 'lstm', horizon: 5 });
    // Run on Sunday 2020-04-19: the Friday close is two days old, within signals.max_data_age_days (5).
    for (const signal of result.signals) expect(signal).toMatchObject({ data_age_days: 2, data_age_sessions: 0, stale: false });
    expect(result.stale_signals).toEqual([]);
  });

  it('writes the signals JSON and the status JSON in the documented format', () => {
    const ajv = new Ajv({ allErrors: true });
    const signalsFile = JSON.parse(readFileSync(result.files_generated.json_file!, 'utf8'));
    expect(ajv.validate(SIGNALS_FILE_SCHEMA, signalsFile), ajv.errorsText()).toBe(true);
    expect(path.basename(result.files_generated.json_file!)).toBe('weekly_signals_20200419_083000.json');
    expect(signalsFile).toMatchObject({ timestamp: '20200419_083000', generation_time: '2020-04-19T08:30:00.000Z', total_stocks_analyzed: 2, prediction_horizon: '5_days' });
    expect(signalsFile.signals.map((s: { ticker: string }) => s.ticker)).toEqual(['AAA', 'SPX']);
    expect(signalsFile.stale_signals).toEqual([]);
    // With the gate off a toy model is deployed and served, but its holdout skill is still measured and carried.
    for (const [i, signal] of result.signals.entries()) {
      const holdout = signal.skill.measured!;
      expect(holdout).toMatchObject({ n: 63, measured_version_id: signal.model_version });
      expect(signalsFile.signals[i].model_skill).toEqual({ shown: holdout.passed, summary: signal.skill.summary, holdout, live: null });
      expect(signal.skill.summary).toBe(holdout.summary);
      expect(holdout.summary).toMatch(/^holdout \d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}: hit \d+\.\d% \[\d+\.\d%, \d+\.\d%\] of 63 vs best baseline /);
    }

    const status = JSON.parse(readFileSync(path.join(output, 'weekly_trading_signals/lstm_status.json'), 'utf8'));
    expect(ajv.validate(STATUS_FILE_SCHEMA, status), ajv.errorsText()).toBe(true);
    const count = (action: string) => result.signals.filter((s) => s.action === action).length;
    expect(status).toMatchObject({
      status: 'partial', stocks_analyzed: 2, latest_signal_file: result.files_generated.json_file!, next_recommended_run: '2020-04-26',
      signals_generated: { buy: count('BUY'), sell: count('SELL'), hold: count('HOLD') },
      stale: [],
      out_of_distribution: result.signals.filter((s) => s.out_of_distribution).map((s) => ({ symbol: s.symbol, dissimilarity: s.dissimilarity })),
    });
    const unskilled = result.signals.filter((s) => s.skill.shown !== true);
    expect(status.without_skill).toEqual(unskilled.map((s) => ({ symbol: s.symbol, shown: s.skill.shown, source: 'lstm', summary: s.skill.summary })));
    expect(status.notes.filter((n: string) => / has not shown skill: /.test(n))).toEqual(unskilled.map((s) => `${s.symbol}: lstm has not shown skill: ${s.skill.summary}`));
  });

  it('writes the Excel report with the Summary sheet first and the original three, read back', async () => {
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(result.files_generated.excel_file!);
    expect(book.worksheets.map((s) => s.name)).toEqual([REPORT_SHEETS.summary, REPORT_SHEETS.analysis, REPORT_SHEETS.topBuys, REPORT_SHEETS.details]);
    const column = (sheet: ExcelJS.Worksheet, header: string) => (sheet.getRow(1).values as unknown[]).indexOf(header);

    const summary = book.getWorksheet(REPORT_SHEETS.summary)!;
    for (const [i, signal] of result.signals.entries()) {
      const row = summary.getRow(i + 2);
      const holdout = signal.skill.measured!;
      const cells = ['Symbol', 'Data age (days)', 'Data', 'Source', 'P(up) calibrated', 'P(up) raw', 'Skill shown', 'Holdout hit rate', 'Hit rate 95% low', 'Hit rate 95% high', 'Holdout n', 'Best baseline', 'Baseline hit rate', 'Brier skill', 'IC', 'Levels rule', 'Levels coverage', 'Live n'];
      expect(cells.map((h) => row.getCell(column(summary, h)).value)).toEqual([
        signal.symbol, 2, 'fresh', 'lstm', signal.prob_up, signal.prob_up_raw, holdout.passed ? 'yes' : 'no', holdout.hit_rate, holdout.hit_rate_interval.low,
        holdout.hit_rate_interval.high, 63, holdout.best_baseline.name, holdout.best_baseline.hit_rate, holdout.brier_skill, holdout.ic, signal.levels_rule,
        signal.levels_coverage, 0,
      ]);
    }
    // Under the rows: nothing stale; one line per signal whose model has not shown skill.
    const below = Array.from({ length: summary.rowCount - 3 }, (_, i) => summary.getRow(i + 4).getCell(1).value);
    const unskilled = result.signals.filter((s) => s.skill.shown !== true);
    expect(below).toEqual(unskilled.length ? [null, ...unskilled.map((s) => `${s.symbol}: lstm has not shown skill: ${s.skill.summary}`)] : []);

    const analysis = book.getWorksheet(REPORT_SHEETS.analysis)!;
    expect(analysis.rowCount).toBe(3);
    for (const [i, signal] of result.signals.entries()) {
      const row = analysis.getRow(i + 2);
      expect(['Symbol', 'Data', 'Grade', 'Confidence', 'P(up) calibrated', 'P(up) raw', 'Expected 5d', 'Skill shown'].map((h) => row.getCell(column(analysis, h)).value)).toEqual([
        signal.symbol, 'fresh', signal.grade, signal.confidence, signal.prob_up, signal.prob_up_raw, signal.expected_return_5d, signal.skill.shown ? 'yes' : 'no',
      ]);
    }
    const buys = result.signals.filter((s) => s.action === 'BUY').length;
    expect(book.getWorksheet(REPORT_SHEETS.topBuys)!.rowCount).toBe(1 + buys);
    const details = book.getWorksheet(REPORT_SHEETS.details)!;
    expect(details.rowCount).toBe(3);
    expect(details.getRow(1).values).toEqual(expect.arrayContaining(['Expected 1d', 'rsi', 'ret_20']));
  });

  it('writes a log naming each step and the failure', () => {
    const log = readFileSync(result.files_generated.log_file, 'utf8');
    expect(log).toMatch(/INFO AAA: retraining \(never trained\), fast mode/);
    expect(log).toMatch(/ERROR BROKEN: no bars from the feed/);
    expect(log).toMatch(/weekly run 20200419_083000 partial: 2 signal\(s\), 1 failure\(s\)/);
  });

  it('reuses fresh models on a second run and logs no prediction twice', async () => {
    const again = await plugin.runWeeklyAnalysis({ now: new Date('2020-04-19T09:00:00Z') });
    expect(again.retrained).toEqual([]);
    expect(again.not_retrained).toEqual([
      { symbol: 'AAA', latest_data_end: '2020-04-17', age_days: 0 },
      { symbol: 'SPX', latest_data_end: '2020-04-17', age_days: 0 },
    ]);
    expect(again.signals).toEqual(result.signals);
    expect(await plugin.store!.repos.predictionLog.count()).toBe(2);
    const latest = await plugin.getLatestSignals();
    expect(latest.status === 'success' && latest.signals.timestamp).toBe('20200419_090000');
    // On the run's clock the data is two days old: only the partial run (BROKEN failed) is a problem.
    const onTime = await checkHealth(plugin.store!, resolveConfig(input), { now: new Date('2020-04-19T09:00:00Z') });
    expect(onTime.symbols.map((s) => [s.symbol, s.healthy, s.data_age_days, s.stale])).toEqual([['AAA', true, 2, false], ['SPX', true, 2, false]]);
    expect(onTime.healthy).toBe(false);
    expect(onTime.problems).toEqual(['last weekly run 2020-04-19T09:00:00.000Z was partial']);
    // Each model's own holdout skill, from its stored metadata; with the gate off an unskilled model is a note.
    for (const s of onTime.symbols) {
      const signal = again.signals.find((x) => x.symbol === s.symbol)!;
      expect(s.skill).toEqual({ shown: signal.skill.shown, summary: signal.skill.measured!.summary, measured: signal.skill.measured });
    }
    expect(onTime.notes).toEqual(
      onTime.symbols
        .filter((s) => !s.skill.shown && s.skilled_fallbacks.length === 0)
        .map((s) => `no forecaster has shown skill on ${s.symbol} (model ${s.version_id}: ${s.skill.measured!.reason}); training.skill_gate is off, so unskilled forecasts are served anyway`),
    );

    // On the wall clock (plugin.checkHealth) the bundled data, ending 2020-04-17, is years old: stale, not healthy.
    const health = await plugin.checkHealth();
    const today = new Date().toISOString().slice(0, 10);
    const days = Math.round((Date.parse(today) - Date.parse('2020-04-17')) / 86_400_000);
    expect(health.symbols.map((s) => [s.symbol, s.healthy, s.data_age_days, s.stale])).toEqual([['AAA', true, days, true], ['SPX', true, days, true]]);
    expect(health.healthy).toBe(false);
    expect(health.problems).toEqual([
      `AAA: the latest stored session is 2020-04-17, ${days} days before ${today} (more than signals.max_data_age_days, 5): its signals are stale`,
      `SPX: the latest stored session is 2020-04-17, ${days} days before ${today} (more than signals.max_data_age_days, 5): its signals are stale`,
      'last weekly run 2020-04-19T09:00:00.000Z was partial',
    ]);
  });

  it('writes no signals file or Excel report for a run that produced no signal, and keeps pointing readers at the last signals', async () => {
    const before = await plugin.getLatestSignals();
    const failed = await plugin.runWeeklyAnalysis({ now: new Date('2020-04-19T10:00:00Z'), symbols: ['BROKEN'] });
    expect(failed.status).toBe('failed');
    expect(failed.files_generated).toMatchObject({ json_file: null, excel_file: null });
    expect(readdirSync(path.join(output, 'weekly_trading_signals')).filter((f) => f.includes('100000'))).toEqual([]);
    expect(readdirSync(path.join(output, 'result')).filter((f) => f.includes('100000'))).toEqual([]);
    const status = JSON.parse(readFileSync(failed.files_generated.status_file, 'utf8'));
    expect(new Ajv().validate(STATUS_FILE_SCHEMA, status)).toBe(true);
    expect(status).toMatchObject({ status: 'failed', last_run: '2020-04-19T10:00:00.000Z', stocks_analyzed: 0, latest_signal_file: before.status === 'success' && before.signal_file });
    expect(await plugin.getLatestSignals()).toEqual(before);
  });

  it('a current model whose stored bytes fail their checksum: degraded with the reason, an alert, and a new version trained', async () => {
    const store = plugin.store!;
    const corrupted = await corruptCurrentModelBytes(store, 'SPX');

    // Trained 11:00 the same day: fresh, so only the corruption can make it retrain.
    const run = await plugin.runWeeklyAnalysis({ now: new Date('2020-04-19T11:00:00Z'), symbols: ['SPX', 'AAA'] });
    expect(run.status).toBe('degraded');
    expect(run.failures).toEqual([]);
    expect(run.degraded).toEqual([{ symbol: 'SPX', version_id: corrupted, reason: expect.stringMatching(new RegExp(`^SPX: current model version ${corrupted} is corrupted: checksum [0-9a-f]{12}… .* ≠ stored [0-9a-f]{12}…`)) }]);
    expect(run.retrained).toEqual([{ symbol: 'SPX', version_id: expect.not.stringMatching(corrupted), deployed: true, reason: expect.any(String) }]);
    expect(run.not_retrained.map((r) => r.symbol)).toEqual(['AAA']);
    const replacement = run.retrained[0]!.version_id;
    expect((await store.repos.currentVersion.findOneByOrFail({ symbol: 'SPX' })).version_id).toBe(replacement);
    expect(run.signals.find((x) => x.symbol === 'SPX')).toMatchObject({ source: 'lstm', model_version: replacement });
    expect(run.notes).toContain(run.degraded[0]!.reason);

    const status = JSON.parse(readFileSync(run.files_generated.status_file, 'utf8'));
    const ajv = new Ajv({ allErrors: true });
    expect(ajv.validate(STATUS_FILE_SCHEMA, status), ajv.errorsText()).toBe(true);
    expect(status).toMatchObject({ status: 'degraded', degraded: run.degraded });

    const [alert] = await store.repos.alert.find({ where: { alert_type: 'model_corrupted' } });
    expect(alert).toMatchObject({ symbol: 'SPX', severity: 'critical', dedupe_key: 'model_corrupted:SPX', delivery_status: 'no_webhook' });
    expect(alert!.message).toBe(`${run.degraded[0]!.reason}; retrained: ${replacement} deployed`);
    expect(alert!.details_json).toEqual({ version_id: corrupted, replacement_version_id: replacement, deployed: true });

    const health = await checkHealth(store, resolveConfig(input), { now: new Date('2020-04-19T11:00:00Z') });
    expect(health.problems).toEqual([`last weekly run 2020-04-19T11:00:00.000Z was degraded: ${run.degraded[0]!.reason}`]);
    expect(readFileSync(run.files_generated.log_file, 'utf8')).toMatch(/weekly run 20200419_110000 degraded: 2 signal\(s\), 0 failure\(s\), 1 corrupted model\(s\)/);
  });
});

describe('the weekly command with a corrupted current model', () => {
  it('says degraded with the reason and exits 1; the model is retrained', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-weekly-cli-'));
    writeFileSync(path.join(cwd, 'config.json'), JSON.stringify({ training: TINY_TRAINING, weekly: { lookback_sessions: 700 } }));
    const weekly = () => runCli(['weekly', '--db', 'sqlite:weekly.sqlite', '--config', 'config.json'], { cwd });
    const first = await weekly();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('status success: 1 signal(s), 0 failure(s)');

    const store = await Store.open({ url: `sqlite:${path.join(cwd, 'weekly.sqlite')}` });
    const corrupted = await corruptCurrentModelBytes(store, 'SPX');
    await store.close();
    const second = await weekly();
    expect(second.code).toBe(1);
    expect(second.stdout).toContain('status degraded: 1 signal(s), 0 failure(s)');
    expect(second.stderr).toContain(`SPX: current model version ${corrupted} is corrupted: checksum`);
    const status = JSON.parse(readFileSync(path.join(cwd, 'weekly_trading_signals', 'lstm_status.json'), 'utf8'));
    expect(status).toMatchObject({ status: 'degraded', degraded: [{ symbol: 'SPX', version_id: corrupted }] });
    const after = await Store.open({ url: `sqlite:${path.join(cwd, 'weekly.sqlite')}` });
    expect((await after.repos.currentVersion.findOneByOrFail({ symbol: 'SPX' })).version_id).not.toBe(corrupted);
    await after.close();
  });
});
