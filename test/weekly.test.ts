import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_SHEETS, SIGNALS_FILE_SCHEMA, STATUS_FILE_SCHEMA, createPlugin, type LstmSignalsPlugin, type Logger, type WeeklyRunResult } from '../plugin/index.js';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { testDatabases } from './support/databases.js';
import { SPX_CSV } from './support/spx.js';

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

describe.each(testDatabases)('the weekly run on $name', (db) => {
  let plugin: LstmSignalsPlugin;
  let drop: () => Promise<void>;
  let output: string;
  let result: WeeklyRunResult;

  beforeAll(async () => {
    const created = await db.create();
    drop = created.drop;
    output = mkdtempSync(path.join(tmpdir(), 'lstm-weekly-out-'));
    const host = new StandaloneHost({ source: new CsvBarSource(dataFolder(), { strict: false }), logger: quiet });
    plugin = createPlugin({
      db_url: created.url,
      training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, batch_size: 64, importance_repeats: 0 },
      weekly: { output_dir: output, lookback_sessions: 700 },
    });
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
  });

  it('writes the signals JSON and the status JSON in the documented format', () => {
    const ajv = new Ajv({ allErrors: true });
    const signalsFile = JSON.parse(readFileSync(result.files_generated.json_file, 'utf8'));
    expect(ajv.validate(SIGNALS_FILE_SCHEMA, signalsFile), ajv.errorsText()).toBe(true);
    expect(path.basename(result.files_generated.json_file)).toBe('weekly_signals_20200419_083000.json');
    expect(signalsFile).toMatchObject({ timestamp: '20200419_083000', generation_time: '2020-04-19T08:30:00.000Z', total_stocks_analyzed: 2, prediction_horizon: '5_days' });
    expect(signalsFile.signals.map((s: { ticker: string }) => s.ticker)).toEqual(['AAA', 'SPX']);

    const status = JSON.parse(readFileSync(path.join(output, 'weekly_trading_signals/lstm_status.json'), 'utf8'));
    expect(ajv.validate(STATUS_FILE_SCHEMA, status), ajv.errorsText()).toBe(true);
    const count = (action: string) => result.signals.filter((s) => s.action === action).length;
    expect(status).toMatchObject({
      status: 'partial', stocks_analyzed: 2, latest_signal_file: result.files_generated.json_file, next_recommended_run: '2020-04-26',
      signals_generated: { buy: count('BUY'), sell: count('SELL'), hold: count('HOLD') },
    });
  });

  it('writes the Excel report with its three sheets, read back', async () => {
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(result.files_generated.excel_file);
    expect(book.worksheets.map((s) => s.name)).toEqual([REPORT_SHEETS.analysis, REPORT_SHEETS.topBuys, REPORT_SHEETS.details]);
    const analysis = book.getWorksheet(REPORT_SHEETS.analysis)!;
    expect(analysis.rowCount).toBe(3);
    expect(analysis.getRow(1).values).toContain('Grade');
    for (const [i, signal] of result.signals.entries()) {
      const row = analysis.getRow(i + 2);
      expect([row.getCell(1).value, row.getCell(3).value, row.getCell(5).value, row.getCell(7).value]).toEqual([
        signal.symbol, signal.grade, signal.confidence, signal.expected_return_5d,
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
    expect(log).toMatch(/INFO AAA: retraining \(no model\), fast mode/);
    expect(log).toMatch(/ERROR BROKEN: no bars from the feed/);
    expect(log).toMatch(/weekly run 20200419_083000 partial: 2 signal\(s\), 1 failure\(s\)/);
  });

  it('reuses fresh models on a second run and logs no prediction twice', async () => {
    const again = await plugin.runWeeklyAnalysis({ now: new Date('2020-04-19T09:00:00Z') });
    expect(again.retrained).toEqual([]);
    expect(again.signals).toEqual(result.signals);
    expect(await plugin.store!.repos.predictionLog.count()).toBe(2);
    const latest = await plugin.getLatestSignals();
    expect(latest.status === 'success' && latest.signals.timestamp).toBe('20200419_090000');
    const health = await plugin.checkHealth();
    expect(health.symbols.map((s) => [s.symbol, s.healthy])).toEqual([['AAA', true], ['SPX', true]]);
    expect(health.healthy).toBe(false); // the last run was partial: BROKEN failed
    expect(health.problems).toEqual([expect.stringMatching(/^last weekly run 2020-04-19T09:00:00.000Z was partial$/)]);
  });
});
