/**
 * Bad bars: each fault, what the plugin does with it (refuse, flag, adjust, stop predicting) and what the user reads.
 * Every expected figure is worked out by hand in the comment beside it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvBarSource } from '../../adapters/bars/csv.js';
import { ingestBars, type IngestOptions } from '../../plugin/bar-ingestion.js';
import { findSplitJumps } from '../../plugin/bar-splits.js';
import { formatBarProblem, validateBars } from '../../plugin/bar-validation.js';
import type { BarProblem, DailyBar } from '../../plugin/bar.js';
import { resolveConfig, type PluginConfigInput } from '../../plugin/config.js';
import type { BarsIngestedEvent } from '../../plugin/events.js';
import type { Host } from '../../plugin/host.js';
import { createPlugin } from '../../plugin/plugin.js';
import { Predictor } from '../../plugin/signals/predictor.js';
import { BarStore } from '../../plugin/store/bar-store.js';
import { Store } from '../../plugin/store/store.js';
import { runCli } from '../support/cli.js';
import { testDatabases, useTestStore } from '../support/databases.js';

const bar = (symbol: string, date: string, close: number, volume = 1000): DailyBar => ({
  symbol,
  date,
  open: close,
  high: close,
  low: close,
  close,
  volume,
});

function options(bars: PluginConfigInput['bars'] = {}, origin: IngestOptions['origin'] = 'history'): IngestOptions {
  return { strict: false, origin, today: '2026-12-01', rules: resolveConfig({ bars }).bars };
}

const flags = (report: BarsIngestedEvent): BarProblem[] => report.problems.filter((p) => p.flag);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lstm-bad-bars-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("bad bars: dated after the host's clock", () => {
  it('refuses a bar dated after today, naming the symbol, the date and the field', () => {
    const rows = ['2024-01-04', '2024-01-05', '2024-01-08', '2031-01-02'].map((date) => ({ ...bar('FUT', date, 100), date }));
    const result = validateBars('FUT', rows, { strict: false, today: '2024-01-05' });
    expect(result.bars.map((b) => b.date)).toEqual(['2024-01-04', '2024-01-05']);
    expect(result.problems.map(formatBarProblem)).toEqual([
      'FUT 2024-01-08 date: 2024-01-08 is after today (2024-01-05): a bar cannot come from the future',
      'FUT 2031-01-02 date: 2031-01-02 is after today (2024-01-05): a bar cannot come from the future',
    ]);
  });

  it("refuses a file's bar dated after the wall clock's today at the source (2999-01-04 is a Friday)", async () => {
    const file = join(dir, 'LATE.csv');
    await writeFile(file, ['date,open,high,low,close,volume', '2020-01-03,1,1,1,1,10', '2999-01-04,1,1,1,1,10'].join('\n'));
    const result = await new CsvBarSource(file, { strict: false }).load('LATE');
    const today = new Date().toISOString().slice(0, 10);
    expect(result.bars.map((b) => b.date)).toEqual(['2020-01-03']);
    expect(result.problems.map(formatBarProblem)).toEqual([`LATE 2999-01-04 date: 2999-01-04 is after today (${today}): a bar cannot come from the future (line 3)`]);
  });

  describe.each(testDatabases)('through the plugin on $name', (db) => {
    it("stores neither the feed's history nor a live bar dated after the host's today", async () => {
      const { url, drop } = await db.create();
      // A platform whose clock stands on Friday 2024-01-05 and whose feed holds a bar of 2031.
      const history = ['2024-01-03', '2024-01-04', '2024-01-05', '2031-01-02'].map((date) => bar('FUT', date, 100));
      const bus = new EventEmitter();
      const host: Host = {
        apiVersion: '1.0.0',
        bus,
        bars: { symbols: async () => ['FUT'], history: async () => history },
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        now: () => new Date('2024-01-05T21:00:00Z'),
        registerRoute: () => () => {},
        registerPanel: () => () => {},
      };
      const reports: BarsIngestedEvent[] = [];
      bus.on('lstm:bars:ingested', (report: BarsIngestedEvent) => reports.push(report));
      const plugin = createPlugin({ db_url: url });
      try {
        await plugin.activate(host);
        bus.emit('host:bar', { bar: bar('FUT', '2024-01-08', 101) });
        await plugin.idle();
        const stored = await new BarStore(plugin.store!).load('FUT');
        expect(stored.map((b) => b.date)).toEqual(['2024-01-03', '2024-01-04', '2024-01-05']);
        expect(reports.map((r) => [r.origin, r.inserted, r.dropped, r.problems.map(formatBarProblem)])).toEqual([
          ['history', 3, 1, ['FUT 2031-01-02 date: 2031-01-02 is after today (2024-01-05): a bar cannot come from the future']],
          ['live', 0, 1, ['FUT 2024-01-08 date: 2024-01-08 is after today (2024-01-05): a bar cannot come from the future']],
        ]);
      } finally {
        await plugin.deactivate();
        await drop();
      }
    });
  });
});

describe('bad bars: weekend dates', () => {
  it('refuses Saturday and Sunday rows of a file, with their line', async () => {
    const file = join(dir, 'WKND.csv');
    // 2020-01-04 is a Saturday, 2020-01-05 a Sunday.
    await writeFile(file, ['date,open,high,low,close,volume', '2020-01-03,1,1,1,1,10', '2020-01-04,1,1,1,1,10', '2020-01-05,1,1,1,1,10', '2020-01-06,1,1,1,1,10'].join('\n'));
    const result = await new CsvBarSource(file, { strict: false }).load('WKND');
    expect(result.bars.map((b) => b.date)).toEqual(['2020-01-03', '2020-01-06']);
    expect(result.problems.map(formatBarProblem)).toEqual([
      'WKND 2020-01-04 date: 2020-01-04 is a Saturday: not a trading session (line 3)',
      'WKND 2020-01-05 date: 2020-01-05 is a Sunday: not a trading session (line 4)',
    ]);
  });

  it('rejects the whole series in strict mode', () => {
    const result = validateBars('WKND', [bar('WKND', '2020-01-03', 1), bar('WKND', '2020-01-04', 1)], { strict: true });
    expect([result.rejected, result.bars.length, result.problems.length]).toEqual([true, 0, 1]);
  });
});

describe('bad bars: gaps between sessions', () => {
  describe.each(testDatabases)('on $name', (db) => {
    const store = useTestStore(db);

    it('flags a gap longer than bars.max_gap_sessions weekdays and keeps the bar, within a batch and across live bars', async () => {
      const barStore = new BarStore(store());
      // 2024-01-03 → 2024-01-11: Jan 4, 5, 8, 9, 10 = 5 weekdays between, not more than 5: no flag.
      // 2024-01-11 → 2024-01-22: Jan 12, 15, 16, 17, 18, 19 = 6 weekdays: flagged.
      const history = ['2024-01-02', '2024-01-03', '2024-01-11', '2024-01-22'].map((date) => bar('GAP', date, 100));
      const first = await ingestBars(barStore, 'GAP', history, options({ max_gap_sessions: 5 }));
      expect(first.inserted).toBe(4);
      expect(flags(first).map(formatBarProblem)).toEqual([
        'GAP 2024-01-22 date: gap of 6 weekday session(s) since the previous bar (2024-01-11), more than bars.max_gap_sessions 5: kept',
      ]);
      // Live: 2024-01-22 → 2024-02-01: Jan 23..26, 29..31 = 7 weekdays; the previous bar comes from the store.
      const live = await ingestBars(barStore, 'GAP', [bar('GAP', '2024-02-01', 100)], options({ max_gap_sessions: 5 }, 'live'));
      expect(flags(live).map((p) => p.message)).toEqual([
        'gap of 7 weekday session(s) since the previous bar (2024-01-22), more than bars.max_gap_sessions 5: kept',
      ]);
      // Four months later: 86 weekdays between 2024-02-01 and 2024-06-03, found however long ago the previous bar is.
      const late = await ingestBars(barStore, 'GAP', [bar('GAP', '2024-06-03', 100)], options({ max_gap_sessions: 5 }, 'live'));
      expect(flags(late).map((p) => p.message)).toEqual([
        'gap of 86 weekday session(s) since the previous bar (2024-02-01), more than bars.max_gap_sessions 5: kept',
      ]);
      expect((await barStore.load('GAP')).length).toBe(6);
    });
  });
});

describe('bad bars: zero volume', () => {
  describe.each(testDatabases)('on $name', (db) => {
    const store = useTestStore(db);

    it('flags the session on which zero volume has lasted more than bars.max_zero_volume_sessions, once per run', async () => {
      const barStore = new BarStore(store());
      const rules = { max_zero_volume_sessions: 2 };
      // Zero from 01-03: the run is 1, 2, 3 (flagged: more than 2), 4 (already flagged), then volume returns.
      const volumes: Array<[string, number]> = [['2024-01-02', 1000], ['2024-01-03', 0], ['2024-01-04', 0], ['2024-01-05', 0], ['2024-01-08', 0], ['2024-01-09', 500]];
      const report = await ingestBars(barStore, 'ZV', volumes.map(([date, volume]) => bar('ZV', date, 100, volume)), options(rules));
      expect(report.inserted).toBe(6);
      expect(flags(report).map(formatBarProblem)).toEqual([
        'ZV 2024-01-05 volume: volume 0 for 3 consecutive sessions since 2024-01-03, more than bars.max_zero_volume_sessions 2: kept',
      ]);
      // A run that spans batches: 01-10 and 01-11 (2 sessions, not flagged), then a live 01-12 makes 3.
      const two = await ingestBars(barStore, 'ZV', [bar('ZV', '2024-01-10', 100, 0), bar('ZV', '2024-01-11', 100, 0)], options(rules, 'live'));
      expect(flags(two)).toEqual([]);
      const third = await ingestBars(barStore, 'ZV', [bar('ZV', '2024-01-12', 100, 0)], options(rules, 'live'));
      expect(flags(third).map((p) => p.message)).toEqual([
        'volume 0 for 3 consecutive sessions since 2024-01-10, more than bars.max_zero_volume_sessions 2: kept',
      ]);
    });
  });
});

describe('bad bars: split-like jumps', () => {
  // A 10:1 split on 2024-01-04: close 102 → 10.3 (×0.1010, old over new 9.90, 1% from 10) while volume rose 1100 → 11000.
  const splitSeries = (symbol: string): DailyBar[] => [
    bar(symbol, '2024-01-02', 100, 1000),
    bar(symbol, '2024-01-03', 102, 1100),
    bar(symbol, '2024-01-04', 10.3, 11000),
    bar(symbol, '2024-01-05', 10.5, 9000),
  ];
  const seen = 'close 102 on 2024-01-03 → 10.3 (×0.1010), volume 1100 → 11000: looks like a 10:1 split';

  it('tells a split from a crash, a rally and an ordinary move', () => {
    const rules = resolveConfig({}).bars;
    const jumps = (closes: Array<[number, number]>) =>
      findSplitJumps(closes.map(([close, volume], i) => bar('J', `2024-01-0${i + 2}`, close, volume)), rules).map((j) => j.ratio);
    expect(jumps([[102, 1100], [10.3, 11000]])).toEqual(['10:1']);
    // 1:10 reverse split: 2.0 → 19.8 (old over new 0.101, 1% from 1/10) with volume falling.
    expect(jumps([[2, 10000], [19.8, 1000]])).toEqual(['1:10']);
    // A crash 100 → 45: old over new 2.22, 11% from 2:1 and 11% from 5:2: not a split, volume or not.
    expect(jumps([[100, 1000], [45, 5000]])).toEqual([]);
    // A rally 100 → 200 on rising volume: a reverse split would have cut the volume.
    expect(jumps([[100, 1000], [200, 3000]])).toEqual([]);
    // 100 → 170: within [1/1.8, 1.8], not looked at.
    expect(jumps([[100, 1000], [170, 500]])).toEqual([]);
    // A 3:2 split (90 → 60.6, old over new 1.485) moves less than 1.8: caught once split_jump_ratio is 1.4.
    expect(findSplitJumps([bar('J', '2024-01-02', 90, 1000), bar('J', '2024-01-03', 60.6, 1500)], { ...rules, split_jump_ratio: 1.4 }).map((j) => j.ratio)).toEqual(['3:2']);
  });

  describe.each(testDatabases)('on $name', (db) => {
    const store = useTestStore(db);

    it('reports it, keeps the bars as given, and the predictor refuses the symbol naming the date and the ratio', async () => {
      const barStore = new BarStore(store());
      const report = await ingestBars(barStore, 'SPLT', splitSeries('SPLT'), options());
      expect(flags(report).map(formatBarProblem)).toEqual([
        `SPLT 2024-01-04 close: ${seen}; kept unadjusted; the symbol is not predicted until resolved (split-adjusted bars, or bars.adjust_splits)`,
      ]);
      expect((await barStore.load('SPLT')).map((b) => b.close)).toEqual([100, 102, 10.3, 10.5]);
      const predictor = new Predictor(store(), resolveConfig({}));
      await expect(predictor.predict('SPLT')).rejects.toThrow(
        'SPLT: not predicted: split-like jump on 2024-01-04 (close ×0.1010 from 2024-01-03, a 10:1 split?) is unresolved: ' +
          'store split-adjusted bars, or set bars.adjust_splits to back-adjust them',
      );
      predictor.dispose();
    });

    it('with bars.adjust_splits, back-adjusts the earlier bars (prices ÷10, volume ×10) and reports it', async () => {
      const barStore = new BarStore(store());
      const report = await ingestBars(barStore, 'ADJ', splitSeries('ADJ'), options({ adjust_splits: true }));
      expect(flags(report).map(formatBarProblem)).toEqual([`ADJ 2024-01-04 close: ${seen}; back-adjusted the 2 earlier bar(s): prices ÷10, volume ×10`]);
      const stored = await barStore.load('ADJ');
      // 100 / 10 = 10 and 102 / 10 = 10.2; volumes 1000 × 10 and 1100 × 10.
      expect(stored.map((b) => [b.date, b.open, b.high, b.low, b.close, b.volume])).toEqual([
        ['2024-01-02', 10, 10, 10, 10, 10000],
        ['2024-01-03', 10.2, 10.2, 10.2, 10.2, 11000],
        ['2024-01-04', 10.3, 10.3, 10.3, 10.3, 11000],
        ['2024-01-05', 10.5, 10.5, 10.5, 10.5, 9000],
      ]);
      expect(findSplitJumps(stored, resolveConfig({}).bars)).toEqual([]);
      // The feed's unadjusted history again: adjusted the same way, so nothing changes.
      const again = await ingestBars(barStore, 'ADJ', splitSeries('ADJ'), options({ adjust_splits: true }));
      expect([again.inserted, again.revised, again.unchanged]).toEqual([0, 0, 4]);
    });

    it('with bars.adjust_splits, a live bar after a split revises the stored history and reports each revision', async () => {
      const barStore = new BarStore(store());
      const [a, b, c] = splitSeries('LIVE');
      await ingestBars(barStore, 'LIVE', [a!, b!], options({ adjust_splits: true }));
      const live = await ingestBars(barStore, 'LIVE', [c!], options({ adjust_splits: true }, 'live'));
      expect(flags(live).map((p) => p.message)).toEqual([`${seen}; back-adjusted the 2 earlier bar(s): prices ÷10, volume ×10`]);
      expect([live.inserted, live.revised]).toEqual([1, 2]);
      expect(live.revisions.filter((r) => r.field === 'close' || r.field === 'volume')).toEqual([
        { symbol: 'LIVE', date: '2024-01-02', field: 'close', stored: 100, incoming: 10 },
        { symbol: 'LIVE', date: '2024-01-02', field: 'volume', stored: 1000, incoming: 10000 },
        { symbol: 'LIVE', date: '2024-01-03', field: 'close', stored: 102, incoming: 10.2 },
        { symbol: 'LIVE', date: '2024-01-03', field: 'volume', stored: 1100, incoming: 11000 },
      ]);
    });
  });
});

describe('corrupt file: unterminated quote', () => {
  it('stops the ingest with the line the quote opened on, and leaves the stored bars as they were', async () => {
    const db = `sqlite:${join(dir, 'corrupt.sqlite')}`;
    const good = join(dir, 'good.csv');
    await writeFile(good, 'date,symbol,open,high,low,close,volume\n2020-01-02,AAA,1,1,1,1,10\n2020-01-02,BBB,2,2,2,2,20\n');
    expect((await runCli(['ingest', '--data', good, '--db', db], { cwd: dir })).code).toBe(0);
    // BBB's row of 2020-01-03 (line 4) opens a quote that never closes: the rest of the file is one field.
    const corrupt = join(dir, 'corrupt.csv');
    await writeFile(corrupt, 'date,symbol,open,high,low,close,volume\n2020-01-03,AAA,1,1,1,1,10\n2020-01-03,BBB,"2,2,2,2,20\n2020-01-06,AAA,1,1,1,1,10\n');
    const result = await runCli(['ingest', '--data', corrupt, '--db', db], { cwd: dir });
    // 2: an error stopped the work (README, exit codes).
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${corrupt}: unterminated quoted field starting on line 3`);
    const store = await Store.open({ url: db });
    try {
      const bars = new BarStore(store);
      expect([(await bars.load('AAA')).map((b) => b.date), (await bars.load('BBB')).map((b) => b.date)]).toEqual([['2020-01-02'], ['2020-01-02']]);
    } finally {
      await store.close();
    }
  });
});

describe('corrupt file: cut off mid-row', () => {
  it('reports the cut row with its line and field, and keeps the rows before it', async () => {
    const file = join(dir, 'CUT.csv');
    await writeFile(file, 'date,open,high,low,close,volume\n2020-01-02,1,1,1,1,10\n2020-01-03,1,1,1,1,10\n2020-01-06,1,1');
    const result = await new CsvBarSource(file, { strict: false }).load('CUT');
    expect(result.bars.map((b) => b.date)).toEqual(['2020-01-02', '2020-01-03']);
    expect(result.problems.map(formatBarProblem)).toEqual([
      'CUT 2020-01-06 low: low is missing (line 4)',
      'CUT 2020-01-06 close: close is missing (line 4)',
      'CUT 2020-01-06 volume: volume is missing (line 4)',
    ]);
  });
});
