/**
 * The weekly run with the skill gate on (the default), where a toy network shows no skill: the gate refuses it,
 * no fallback tier has shown skill either, and every output — signals file, status file, Excel, terminal table and
 * health — says so (a base-rate HOLD, skill.shown false). The run's clock decides staleness: a few days after the
 * data the signal is fresh, years after it is STALE. Then predictions at earlier sessions are backfilled, and the
 * next run's signals file carries the live record.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  type LstmSignalsPlugin,
  type Logger,
  type PluginConfigInput,
  type WeeklyRunResult,
  type WeeklySignalsFile,
  type WeeklyStatusFile,
} from '../plugin/index.js';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { formatSignalNotes, formatSignalTable } from '../adapters/standalone/signal-table.js';
import { SPX_CSV } from './support/spx.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const LAST_BAR = '2020-04-17';
/** Four calendar days after the last bar (Friday 2020-04-17): Tuesday, with one weekday session (Monday) strictly between; within signals.max_data_age_days (5). */
const FRESH = new Date('2020-04-21T20:00:00Z');
const YEARS_LATER = new Date('2026-12-02T12:00:00Z');
const daysBetween = (from: string, to: Date) => Math.round((Date.parse(to.toISOString().slice(0, 10)) - Date.parse(from)) / 86_400_000);

function dataFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lstm-weekly-skill-data-'));
  const lines = readFileSync(SPX_CSV, 'utf8').trim().split('\n');
  writeFileSync(path.join(dir, 'SPX.csv'), [lines[0], ...lines.slice(-1200)].join('\n'));
  return dir;
}

const readJson = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;

async function summarySheet(file: string) {
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(file);
  const sheet = book.getWorksheet(REPORT_SHEETS.summary)!;
  const headers = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
  const cell = (row: number, header: string) => sheet.getRow(row).getCell(headers.indexOf(header) + 1).value;
  const textRows = Array.from({ length: sheet.rowCount }, (_, i) => sheet.getRow(i + 1).getCell(1).value);
  return { book, sheet, headers, cell, textRows };
}

describe('the weekly run with the skill gate on, fresh and stale', () => {
  const output = mkdtempSync(path.join(tmpdir(), 'lstm-weekly-skill-out-'));
  // The skill gate is on by default: not set here.
  const input: PluginConfigInput = {
    db_url: 'sqlite::memory:',
    training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, batch_size: 64, importance_repeats: 0 },
    weekly: { output_dir: output, lookback_sessions: 700 },
  };
  const config = resolveConfig(input);
  let plugin: LstmSignalsPlugin;
  let fresh: WeeklyRunResult;
  let stale: WeeklyRunResult;
  /** The fresh run's status file, read before the stale run replaces it. */
  let freshStatus: WeeklyStatusFile;

  beforeAll(async () => {
    expect(config.training.skill_gate).toBe(true);
    plugin = createPlugin(input);
    await plugin.activate(new StandaloneHost({ source: new CsvBarSource(dataFolder(), { strict: false }), logger: quiet }));
    fresh = await plugin.runWeeklyAnalysis({ now: FRESH });
    freshStatus = readJson<WeeklyStatusFile>(fresh.files_generated.status_file);
    stale = await plugin.runWeeklyAnalysis({ now: YEARS_LATER });
  });
  afterAll(async () => plugin.deactivate());

  it('refuses the toy model and serves a base-rate HOLD that says no forecaster has shown skill', async () => {
    expect(fresh.retrained).toEqual([{ symbol: 'SPX', version_id: expect.any(String), deployed: false, reason: expect.stringMatching(/skill/) }]);
    expect(await plugin.store!.repos.currentVersion.count()).toBe(0);
    const [signal] = fresh.signals;
    expect(signal).toMatchObject({
      symbol: 'SPX', as_of: LAST_BAR, source: 'base_rate', grade: 'HOLD', action: 'HOLD', confidence: 1, model_version: null,
      skill: { shown: false, summary: 'no forecaster has shown skill on SPX', measured: null },
      stale: false, data_age_days: 4, data_age_sessions: 1,
    });
    // Every tier above the base rate says why it did not answer.
    expect(signal!.fallback_reasons.map((r) => r.source)).toEqual(['lstm', 'arima', 'technical']);
    expect(fresh.status).toBe('success');
    expect(fresh.stale_signals).toEqual([]);
    expect(fresh.notes).toEqual(['SPX: no forecaster has shown skill on SPX']);
  });

  it('writes the fresh signals and status files: model_skill without a holdout, no live record yet, nothing stale', () => {
    const ajv = new Ajv({ allErrors: true });
    const file = readJson<WeeklySignalsFile>(fresh.files_generated.json_file!);
    expect(ajv.validate(SIGNALS_FILE_SCHEMA, file), ajv.errorsText()).toBe(true);
    expect(file.stale_signals).toEqual([]);
    expect(file.signals[0]).toMatchObject({
      ticker: 'SPX', as_of: LAST_BAR, source: 'base_rate', stale: false, data_age_days: 4,
      model_skill: { shown: false, summary: 'no forecaster has shown skill on SPX', holdout: null, live: null },
    });
    expect(ajv.validate(STATUS_FILE_SCHEMA, freshStatus), ajv.errorsText()).toBe(true);
    expect(freshStatus).toMatchObject({
      status: 'success',
      latest_signal_file: fresh.files_generated.json_file!,
      signals_generated: { buy: 0, sell: 0, hold: 1 },
      stale: [],
      without_skill: [{ symbol: 'SPX', shown: false, source: 'base_rate', summary: 'no forecaster has shown skill on SPX' }],
      out_of_distribution: [],
      notes: ['SPX: no forecaster has shown skill on SPX'],
    });
    const log = readFileSync(fresh.files_generated.log_file, 'utf8');
    expect(log).toMatch(/INFO SPX: HOLD \(confidence 1, base_rate\) as of 2020-04-17, data 4 days old\n/);
    expect(log).toMatch(/WARN SPX: no forecaster has shown skill on SPX/);
    expect(log).toMatch(/weekly run 20200421_200000 success: 1 signal\(s\), 0 failure\(s\), 0 stale, 1 without shown skill/);
  });

  it('marks the run years after the data STALE in the signals and status files, and still calls it a success', () => {
    const days = daysBetween(LAST_BAR, YEARS_LATER);
    expect(days).toBe(2420);
    expect(stale.signals[0]).toMatchObject({ source: 'base_rate', grade: 'HOLD', stale: true, data_age_days: days, skill: { shown: false } });
    const ajv = new Ajv({ allErrors: true });
    const file = readJson<WeeklySignalsFile>(stale.files_generated.json_file!);
    expect(ajv.validate(SIGNALS_FILE_SCHEMA, file), ajv.errorsText()).toBe(true);
    expect(file.stale_signals).toEqual(['SPX']);
    expect(file.signals[0]).toMatchObject({ as_of: LAST_BAR, stale: true, data_age_days: 2420, model_skill: { shown: false, holdout: null, live: null } });

    const status = readJson<WeeklyStatusFile>(path.join(output, 'weekly_trading_signals/lstm_status.json'));
    expect(ajv.validate(STATUS_FILE_SCHEMA, status), ajv.errorsText()).toBe(true);
    expect(status).toMatchObject({
      status: 'success',
      latest_signal_file: stale.files_generated.json_file!,
      signals_generated: { buy: 0, sell: 0, hold: 1 },
      stale: [{ symbol: 'SPX', as_of: LAST_BAR, data_age_days: 2420 }],
      without_skill: [{ symbol: 'SPX', shown: false, source: 'base_rate', summary: 'no forecaster has shown skill on SPX' }],
      out_of_distribution: [],
      failures: [],
    });
    expect(status.notes).toEqual([
      'SPX is STALE: its latest session is 2020-04-17, 2420 days before the run (2026-12-02), so this is the signal of 2020-04-17, not of today (signals.max_data_age_days 5)',
      'SPX: no forecaster has shown skill on SPX',
    ]);
    // A status file without the new fields is refused by the schema.
    const { stale: _dropped, ...withoutStale } = status;
    expect(ajv.validate(STATUS_FILE_SCHEMA, withoutStale)).toBe(false);
  });

  it('puts a Summary sheet first: fresh, then STALE with the stale line under the rows', async () => {
    const first = await summarySheet(fresh.files_generated.excel_file!);
    expect(first.book.worksheets.map((s) => s.name)).toEqual(['Summary', 'Analysis', 'Top Buys', 'Details']);
    const signal = fresh.signals[0]!;
    expect(
      ['Symbol', 'As of', 'Data age (days)', 'Data', 'Grade', 'Confidence', 'Source', 'P(up) calibrated', 'P(up) raw', 'Skill shown', 'Holdout hit rate', 'Holdout n', 'Best baseline', 'Brier skill', 'Levels rule', 'Out of distribution', 'Live n'].map((h) => first.cell(2, h)),
    ).toEqual(['SPX', LAST_BAR, 4, 'fresh', 'HOLD', 1, 'base_rate', signal.prob_up, signal.prob_up_raw, 'no', null, null, null, null, signal.levels_rule, 'no', 0]);
    expect(first.textRows.slice(2)).toEqual([null, 'SPX: no forecaster has shown skill on SPX']);

    const later = await summarySheet(stale.files_generated.excel_file!);
    expect([later.cell(2, 'Data'), later.cell(2, 'Data age (days)'), later.cell(2, 'Skill shown')]).toEqual(['STALE', 2420, 'no']);
    expect(later.textRows.slice(2)).toEqual([
      null,
      'SPX is STALE: its latest session is 2020-04-17, 2420 days before the run (2026-12-02), so this is the signal of 2020-04-17, not of today (signals.max_data_age_days 5)',
      'SPX: no forecaster has shown skill on SPX',
    ]);
    const analysis = later.book.getWorksheet(REPORT_SHEETS.analysis)!;
    const headers = (analysis.getRow(1).values as unknown[]).slice(1) as string[];
    const value = (h: string) => analysis.getRow(2).getCell(headers.indexOf(h) + 1).value;
    expect([value('Data'), value('Source'), value('Skill shown'), value('P(up) calibrated'), value('P(up) raw')]).toEqual([
      'STALE', 'base_rate', 'no', stale.signals[0]!.prob_up, stale.signals[0]!.prob_up_raw,
    ]);
  });

  it('prints STALE, the base rate and the missing skill in the terminal table, and says it under the table', () => {
    const table = formatSignalTable(stale.signals).split('\n');
    expect(table[0]).toMatch(/^symbol\s+as of\s+data\s+grade\s+conf\s+P\(up\)\s+exp 5d\s+price\s+stop\s+target\s+risk\s+source\s+skill$/);
    expect(table[1]).toMatch(/^SPX\s+2020-04-17\s+STALE\s+HOLD\s+1\s+[\d.]+%\s+-?[\d.]+%\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(LOW|MEDIUM|HIGH)\s+base_rate\s+no$/);
    expect(formatSignalTable(fresh.signals).split('\n')[1]).toMatch(/^SPX\s+2020-04-17\s+fresh\s+HOLD\s/);
    expect(formatSignalNotes(stale.signals, { dataName: 'the bundled data' })).toBe(
      "STALE: these are the signals of 2020-04-17 (SPX's last bar, 2420 days before today); the bundled data ends there.\n" +
        'SPX: no forecaster has shown skill on SPX\n',
    );
    expect(formatSignalNotes(fresh.signals)).toBe('SPX: no forecaster has shown skill on SPX\n');
  });

  it('health: the refused model is a note; the data is stale years later, not four days later', async () => {
    const onTime = await checkHealth(plugin.store!, config, { now: FRESH });
    expect(onTime.symbols).toEqual([
      expect.objectContaining({
        symbol: 'SPX', last_bar: LAST_BAR, data_age_days: 4, stale: false, version_id: null, healthy: false,
        skill: expect.objectContaining({ shown: false, measured: null }), skilled_fallbacks: [],
        skill_gate_refusal: expect.stringMatching(/^no skill shown: /),
      }),
    ]);
    expect(onTime.problems).toEqual([]);
    expect(onTime.healthy).toBe(true);
    expect(onTime.notes).toEqual([expect.stringMatching(/^no forecaster has shown skill on SPX \(the skill gate refused SPX's latest model: no skill shown: .*\); its signals are base-rate HOLDs$/)]);

    const late = await checkHealth(plugin.store!, config, { now: YEARS_LATER });
    expect(late.healthy).toBe(false);
    expect(late.problems).toEqual([
      'SPX: the latest stored session is 2020-04-17, 2420 days before 2026-12-02 (more than signals.max_data_age_days, 5): its signals are stale',
    ]);
    expect(late.symbols[0]).toMatchObject({ data_age_days: 2420, stale: true });
    expect(late.notes).toEqual(onTime.notes);
  });

  it('carries the live record into the signals file once earlier predictions are backfilled', async () => {
    const sessions = (await plugin.store!.repos.bar.find({ where: { symbol: 'SPX' }, order: { date: 'DESC' }, take: 40 })).map((b) => b.date).reverse();
    // Twelve sessions whose fifth session after is stored: each scored against the baselines at the same session.
    const asOfs = sessions.slice(-30, -18);
    for (const asOf of asOfs) expect((await plugin.predict('SPX', { asOf })).signal.source).toBe('base_rate');
    expect((await plugin.updateAccuracy('SPX')).written).toHaveLength(12);

    const run = await plugin.runWeeklyAnalysis({ now: FRESH });
    const file = readJson<WeeklySignalsFile>(run.files_generated.json_file!);
    const ajv = new Ajv({ allErrors: true });
    expect(ajv.validate(SIGNALS_FILE_SCHEMA, file), ajv.errorsText()).toBe(true);
    const { live } = await plugin.skill('SPX', 'live');
    const served = live.served!;
    expect(file.signals[0]!.model_skill.live).toEqual({
      n: 12,
      hit_rate: served.subject.hit_rate,
      hit_rate_interval: served.subject.hit_rate_interval,
      best_baseline: served.best_baseline,
      brier_skill: served.subject.brier_skill,
      ic: served.subject.ic,
      ece_calibrated: live.calibration!.ece_calibrated,
      coverage_realised: live.coverage?.realised ?? null,
      coverage_nominal: live.coverage?.nominal ?? null,
    });
    // The hit rate is the share of the twelve the base rate called right.
    const records = await plugin.store!.repos.accuracyRecord.find({ where: { symbol: 'SPX' } });
    expect(served.subject.hit_rate).toBe(records.filter((r) => r.direction_correct).length / 12);
    expect(run.model_skill.SPX!.live!.n).toBe(12);
    const excel = await summarySheet(run.files_generated.excel_file!);
    expect([excel.cell(2, 'Live n'), excel.cell(2, 'Live hit rate')]).toEqual([12, served.subject.hit_rate]);
  });
});
