import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPX_CSV, spxBars } from './support/spx.js';
import { formatFeatureTable, registerFeaturesCommand } from '../adapters/standalone/commands/features.js';
import type { DailyBar } from '../plugin/bar.js';
import {
  buildFeatureFrame,
  DEFAULT_FEATURE_NAMES,
  FEATURE_HISTORY,
  featureFrameToRecords,
  type FeatureFrame,
  type FeatureName,
} from '../plugin/features/frame.js';
import {
  aroon,
  averageTrueRange,
  bollingerBands,
  macdHistogram,
  moneyFlowIndex,
  onBalanceVolume,
  rsi,
  volatility,
} from '../plugin/features/indicators.js';
import { fitScaler, fitScalerForSamples, scaleWindows } from '../plugin/features/scaler.js';
import { buildSamples } from '../plugin/features/windows.js';

const bars = await spxBars();
const frame = buildFeatureFrame(bars);
const samples = buildSamples(frame);

const barIndex = (date: string) => bars.findIndex((b) => b.date === date);
const rowOf = (f: FeatureFrame, date: string) => f.dates.indexOf(date);

function expectRelative(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected));
}

describe('buildFeatureFrame on the S&P 500 file', () => {
  it('drops the 33-session warm-up of MACD 12/26/9 and keeps every later session, all finite', () => {
    expect(frame.symbol).toBe('SPX');
    expect(frame.featureNames).toEqual([...DEFAULT_FEATURE_NAMES]);
    expect(frame.warmup).toBe(33);
    expect(frame.rows).toHaveLength(5105 - 33);
    expect(frame.dates[0]).toBe('2000-02-18');
    expect(frame.dates).toEqual(bars.slice(33).map((b) => b.date));
    expect(frame.close).toEqual(bars.slice(33).map((b) => b.close));
    expect(frame.rows.every((row) => row.length === 15 && row.every(Number.isFinite))).toBe(true);
  });

  it('has these values on 2008-10-10', () => {
    const row = frame.rows[rowOf(frame, '2008-10-10')]!;
    const expected: Record<FeatureName, number> = {
      close_norm: -0.201490447742239,
      volume_norm: 0.5659148621965178,
      rsi: 0.2298243586712496,
      macd_hist: -0.029636269771477788,
      bb_position: -0.05559401571642419,
      volatility: 0.039588747164984874,
      obv_norm: -0.38315155362262265,
      mfi: 0.19121670458063866,
      aroon_up: 0.04,
      aroon_down: 1,
      atr_pct: 0.06074206684582835,
      // Against the closes of 2008-10-09, 2008-10-03, 2008-09-26 and 2008-09-12 in the file.
      ret_1: 899.219971 / 909.919983 - 1,
      ret_5: 899.219971 / 1099.22998 - 1,
      ret_10: 899.219971 / 1213.27002 - 1,
      ret_20: 899.219971 / 1251.699951 - 1,
    };
    DEFAULT_FEATURE_NAMES.forEach((name, j) => expectRelative(row[j]!, expected[name]));
  });

  it('computes each feature by its definition from bars up to the session (2020-03-16)', () => {
    const t = barIndex('2020-03-16');
    const row = frame.rows[rowOf(frame, '2020-03-16')]!;
    const value = (name: FeatureName) => row[DEFAULT_FEATURE_NAMES.indexOf(name)]!;
    const close = bars.map((b) => b.close);
    const volume = bars.map((b) => b.volume);
    const last20 = (values: number[]) => values.slice(t - 19, t + 1);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const { upper, lower } = bollingerBands(close);
    const obv = onBalanceVolume(close, volume);

    expectRelative(value('close_norm'), close[t]! / (sum(last20(close)) / 20) - 1);
    expectRelative(value('volume_norm'), volume[t]! / (sum(last20(volume)) / 20) - 1);
    expectRelative(value('rsi'), rsi(close)[t]! / 100);
    expectRelative(value('macd_hist'), macdHistogram(close)[t]! / close[t]!);
    expectRelative(value('bb_position'), (close[t]! - lower[t]!) / (upper[t]! - lower[t]!));
    expectRelative(value('volatility'), volatility(close)[t]!);
    expectRelative(value('obv_norm'), (obv[t]! - obv[t - 20]!) / sum(last20(volume)));
    expectRelative(value('mfi'), moneyFlowIndex(bars)[t]! / 100);
    expectRelative(value('aroon_up'), aroon(bars).up[t]! / 100);
    expectRelative(value('aroon_down'), aroon(bars).down[t]! / 100);
    expectRelative(value('atr_pct'), averageTrueRange(bars)[t]! / close[t]!);
    for (const k of [1, 5, 10, 20]) expectRelative(value(`ret_${k}` as FeatureName), close[t]! / close[t - k]! - 1);
  });

  it('computes only the requested features, in the requested order, with their own warm-up', () => {
    const subset = buildFeatureFrame(bars, ['ret_1', 'rsi']);
    expect(subset.warmup).toBe(14);
    expect(subset.dates[0]).toBe('2000-01-24');
    expect(subset.rows[0]).toEqual([bars[14]!.close / bars[13]!.close - 1, rsi(bars.map((b) => b.close))[14]! / 100]);
  });

  it('refuses an unknown or repeated feature name, naming it', () => {
    expect(() => buildFeatureFrame(bars, ['rsi', 'momentum' as FeatureName])).toThrow(/^unknown feature "momentum"; known features: close_norm, /);
    expect(() => buildFeatureFrame(bars, ['rsi', 'rsi'])).toThrow('feature "rsi" is listed twice');
  });

  it('refuses bars out of order or of several symbols', () => {
    expect(() => buildFeatureFrame([bars[1]!, bars[0]!])).toThrow('SPX: bars out of order at 2000-01-03 (after 2000-01-04)');
    expect(() => buildFeatureFrame([bars[0]!, { ...bars[1]!, symbol: 'NDX' }])).toThrow('bars of more than one symbol: SPX and NDX');
  });

  it('gives neutral values to a market that never moves or trades', () => {
    const flat: DailyBar[] = bars.slice(0, 40).map((b) => ({ ...b, open: 100, high: 100, low: 100, close: 100, volume: 0 }));
    const still = buildFeatureFrame(flat);
    expect(still.warmup).toBe(33);
    // bb_position, rsi and mfi neutral; both Aroons 1 because the latest of equal extremes is today.
    const neutral = [0, 0, 0.5, 0, 0.5, 0, 0, 0.5, 1, 1, 0, 0, 0, 0, 0];
    expect(still.rows).toEqual([neutral, neutral, neutral, neutral, neutral, neutral, neutral]);
  });

  it('is empty for fewer bars than the warm-up', () => {
    expect(buildFeatureFrame(bars.slice(0, 33))).toMatchObject({ symbol: 'SPX', warmup: 33, dates: [], rows: [] });
  });

  it('gives a window the same features from its last seqLen + FEATURE_HISTORY bars as from the full history', () => {
    // Windows ending in calm (2006), crisis (2008) and the last session; 60 sessions each.
    for (const end of [barIndex('2006-06-30'), barIndex('2008-10-10'), bars.length - 1]) {
      const trimmed = buildFeatureFrame(bars.slice(end + 1 - (60 + FEATURE_HISTORY), end + 1));
      const full = rowOf(frame, bars[end]!.date);
      for (let k = 0; k < 60; k++) {
        const a = trimmed.rows[trimmed.rows.length - 1 - k]!;
        const b = frame.rows[full - k]!;
        a.forEach((value, j) => expect(Math.abs(value - b[j]!), `${bars[end - k]!.date} ${frame.featureNames[j]}`).toBeLessThan(1e-9));
      }
    }
  });

  it('turns rows into records for JSON', () => {
    const records = featureFrameToRecords(frame);
    expect(records).toHaveLength(frame.rows.length);
    const record = records[rowOf(frame, '2008-10-10')]!;
    expect(Object.keys(record)).toEqual(['date', 'close', ...DEFAULT_FEATURE_NAMES]);
    expect(record).toMatchObject({ date: '2008-10-10', close: 899.219971, aroon_down: 1 });
  });
});

describe('buildSamples', () => {
  it('makes a window for every session with 60 rows behind it; the last 5 have no label yet', () => {
    expect(samples.seqLen).toBe(60);
    expect(samples.horizon).toBe(5);
    expect(samples.windows).toHaveLength(5072 - 59);
    expect(samples.asOf).toHaveLength(5013);
    expect(samples.endIndex[0]).toBe(59);
    expect(samples.asOf[0]).toBe(frame.dates[59]);
    expect(samples.asOf.at(-1)).toBe('2020-04-17');
    expect(samples.labeled).toBe(5013 - 5);
    expect([samples.direction.length, samples.magnitude.length, samples.path.length]).toEqual([5008, 5008, 5008]);
    expect(samples.asOf[samples.labeled - 1]).toBe('2020-04-09');
    expect(samples.asOf.slice(samples.labeled)).toEqual(['2020-04-13', '2020-04-14', '2020-04-15', '2020-04-16', '2020-04-17']);
  });

  it('labels as-of 2003-06-30 with the close of 2003-07-08, five sessions later across the July 4 holiday', () => {
    const i = samples.asOf.indexOf('2003-06-30');
    const t = samples.endIndex[i]!;
    expect(frame.dates[t]).toBe('2003-06-30');
    expect(frame.dates.slice(t + 1, t + 6)).toEqual(['2003-07-01', '2003-07-02', '2003-07-03', '2003-07-07', '2003-07-08']);
    // Closes from the file: 974.5 on 2003-06-30, then 982.320007, 993.75, 985.700012, 1004.419983, 1007.840027.
    const path = [982.320007, 993.75, 985.700012, 1004.419983, 1007.840027].map((c) => c / 974.5 - 1);
    expect(samples.path[i]).toEqual(path);
    expect(samples.magnitude[i]).toBe(1007.840027 / 974.5 - 1);
    expect(samples.path[i]!.at(-1)).toBe(samples.magnitude[i]);
    expect(samples.direction[i]).toBe(1);
  });

  it('direction is 1 exactly when the close 5 sessions later is higher', () => {
    const down = samples.asOf.indexOf('2008-10-01'); // 1161.060059 → 984.940002 on 2008-10-08
    expect(samples.direction[down]).toBe(0);
    expect(samples.magnitude[down]).toBeLessThan(0);
    expect(samples.direction.every((d, i) => d === (samples.magnitude[i]! > 0 ? 1 : 0))).toBe(true);
  });

  it('window i holds the 60 unscaled frame rows ending at its as-of session, oldest first', () => {
    const i = samples.asOf.indexOf('2003-06-30');
    const t = samples.endIndex[i]!;
    expect(samples.windows.window(i)).toEqual(frame.rows.slice(t - 59, t + 1));
    expect(samples.windows.window(0)).toEqual(frame.rows.slice(0, 60));
    expect(() => samples.windows.window(5013)).toThrow('window 5013 outside 0..5012');
  });

  it('tensorData lays windows out as [sample][step][feature] float32', () => {
    const data = samples.windows.tensorData([7, 3]);
    expect(data).toBeInstanceOf(Float32Array);
    expect(data).toHaveLength(2 * 60 * 15);
    expect(data).toEqual(Float32Array.from([...samples.windows.window(7).flat(), ...samples.windows.window(3).flat()]));
    expect(samples.windows.tensorData()).toHaveLength(5013 * 60 * 15);
  });

  it('has no sample when the frame is shorter than a window, and no label until horizon sessions follow one', () => {
    const short = { ...frame, dates: frame.dates.slice(0, 62), close: frame.close.slice(0, 62), rows: frame.rows.slice(0, 62) };
    expect(buildSamples(short)).toMatchObject({ asOf: frame.dates.slice(59, 62), labeled: 0, direction: [], path: [] });
    expect(buildSamples(short, { seqLen: 63 }).asOf).toEqual([]);
    expect(buildSamples(short, { seqLen: 60, horizon: 1 })).toMatchObject({ labeled: 2, magnitude: [frame.close[60]! / frame.close[59]! - 1, frame.close[61]! / frame.close[60]! - 1] });
    expect(() => buildSamples(short, { seqLen: 0 })).toThrow('seqLen must be a positive integer, got 0');
  });
});

describe('no look-ahead', () => {
  const D = '2008-10-10';
  // Every bar after D poisoned: prices tripled, volumes ×10.
  const poisoned = bars.map((b) =>
    b.date > D ? { ...b, open: b.open * 3, high: b.high * 3, low: b.low * 3, close: b.close * 3, volume: b.volume * 10 } : b,
  );
  const poisonedFrame = buildFeatureFrame(poisoned);
  const poisonedSamples = buildSamples(poisonedFrame);
  const rowD = rowOf(frame, D);
  const sameValues = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, k) => Object.is(x, b[k]));

  it('leaves every feature row up to D unchanged, and is what the bars up to D alone give', () => {
    expect(poisonedFrame.warmup).toBe(frame.warmup);
    expect(poisonedFrame.dates).toEqual(frame.dates);
    expect(poisonedFrame.rows.slice(0, rowD + 1)).toEqual(frame.rows.slice(0, rowD + 1));
    expect(buildFeatureFrame(bars.slice(0, barIndex(D) + 1)).rows).toEqual(frame.rows.slice(0, rowD + 1));
    // The poison is visible from the next session on.
    expect(poisonedFrame.rows[rowD + 1]).not.toEqual(frame.rows[rowD + 1]);
  });

  it('leaves every window with as-of ≤ D unchanged', () => {
    const upToD = samples.asOf.flatMap((date, i) => (date <= D ? [i] : []));
    expect(upToD).toHaveLength(rowD - 59 + 1);
    const changed = upToD.filter((i) => !sameValues(samples.windows.window(i).flat(), poisonedSamples.windows.window(i).flat()));
    expect(changed).toEqual([]);
    const next = upToD.length;
    expect(sameValues(samples.windows.window(next).flat(), poisonedSamples.windows.window(next).flat())).toBe(false);
  });

  it('leaves every label whose session t + 5 is ≤ D unchanged', () => {
    const known = samples.endIndex.filter((t) => t + 5 <= rowD).length;
    expect(samples.asOf[known - 1]).toBe('2008-10-03');
    expect(poisonedSamples.direction.slice(0, known)).toEqual(samples.direction.slice(0, known));
    expect(poisonedSamples.magnitude.slice(0, known)).toEqual(samples.magnitude.slice(0, known));
    expect(poisonedSamples.path.slice(0, known)).toEqual(samples.path.slice(0, known));
    expect(poisonedSamples.magnitude[known]).not.toBe(samples.magnitude[known]);
  });

  it('fits the same scaler on training samples whose labels are known by D', () => {
    const train = samples.endIndex.flatMap((t, i) => (t + 5 <= rowD ? [i] : []));
    expect(fitScalerForSamples(poisonedFrame, poisonedSamples, train)).toEqual(fitScalerForSamples(frame, samples, train));
    // A training sample whose window reaches past D would fit on poisoned rows.
    const reaching = samples.asOf.indexOf('2008-10-13');
    expect(fitScalerForSamples(poisonedFrame, poisonedSamples, [...train, reaching])).not.toEqual(
      fitScalerForSamples(frame, samples, [...train, reaching]),
    );
  });
});

describe('scaler', () => {
  const names: FeatureName[] = ['rsi', 'mfi', 'ret_1'];
  // Column 0: 1, 2, 3, 6 → mean 3, squared deviations 4 + 1 + 0 + 9 = 14, σ = √(14/4); column 1 ten times it; column 2 constant.
  const rows = [
    [1, 10, 5],
    [2, 20, 5],
    [3, 30, 5],
    [6, 60, 5],
    [4, 0, 5],
  ];
  const small: FeatureFrame = {
    symbol: 'T',
    featureNames: names,
    dates: ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08'],
    close: [10, 11, 12, 11, 13],
    rows,
    warmup: 0,
  };

  it('fits the mean and population σ of each column; a constant column gets σ 1', () => {
    expect(fitScaler(rows.slice(0, 4), names)).toEqual({ featureNames: names, mean: [3, 30, 5], std: [Math.sqrt(3.5), Math.sqrt(350), 1] });
  });

  it('is plain JSON', () => {
    const params = fitScaler(rows, names);
    expect(JSON.parse(JSON.stringify(params))).toEqual(params);
  });

  it('fitScalerForSamples fits on the rows from the first training window to the last training as-of', () => {
    const windows = buildSamples(small, { seqLen: 2, horizon: 1 });
    expect(windows.endIndex).toEqual([1, 2, 3, 4]);
    // Training samples 1 and 2: windows over rows 1..2 and 2..3.
    expect(fitScalerForSamples(small, windows, [2, 1])).toEqual(fitScaler(rows.slice(1, 4), names));
    expect(() => fitScalerForSamples(small, windows, [])).toThrow('cannot fit a scaler without training samples');
    expect(() => fitScalerForSamples(small, windows, [4])).toThrow('training sample 4 outside 0..3');
    expect(() => fitScalerForSamples(frame, windows, [0])).toThrow(/^samples were not built from this frame/);
  });

  it('scales copies of the windows, leaving the originals alone', () => {
    const windows = buildSamples(small, { seqLen: 2, horizon: 1 }).windows;
    const before = windows.window(0);
    const params = fitScaler(rows.slice(0, 4), names);
    const scaled = scaleWindows(windows, params);
    const s = Math.sqrt(3.5);
    expect(scaled.window(0)).toEqual([
      [-2 / s, -20 / (10 * s), 0],
      [-1 / s, -10 / (10 * s), 0],
    ]);
    expect(scaled.window(3)[1]).toEqual([1 / s, -30 / (10 * s), 0]);
    expect(windows.window(0)).toEqual(before);
    expect(windows.rows).toEqual(Float64Array.from(rows.flat()));
  });

  it('refuses parameters fitted on other features', () => {
    const windows = buildSamples(small, { seqLen: 2, horizon: 1 }).windows;
    const params = fitScaler(rows, ['rsi', 'ret_1', 'mfi']);
    expect(() => scaleWindows(windows, params)).toThrow('scaler fitted on [rsi, ret_1, mfi], windows have [rsi, mfi, ret_1]');
  });

  it('refuses rows with a missing or non-finite value', () => {
    expect(() => fitScaler([[1, 2]], names)).toThrow('row 0 has 2 values for 3 features');
    expect(() => fitScaler([[1, Number.NaN, 3]], names)).toThrow('row 0: mfi is NaN');
    expect(() => fitScaler([], names)).toThrow('cannot fit a scaler on no rows');
  });
});

describe('features command', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lstm-features-'));
    await writeFile(join(dir, 'AAA.csv'), 'date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,12,10,11,120\n');
    await writeFile(join(dir, 'BBB.csv'), 'date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,9,10,11,120\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function run(args: string[]): Promise<{ out: string; err: string }> {
    let out = '';
    let err = '';
    const program = new Command().exitOverride().configureOutput({ writeOut: (text) => (out += text), writeErr: (text) => (err += text) });
    registerFeaturesCommand(program);
    await program.parseAsync(['features', ...args], { from: 'user' });
    return { out, err };
  }

  it('--json prints symbol, feature names, warm-up and every row with its date and close', async () => {
    const { out, err } = await run(['--data', SPX_CSV, '--json']);
    expect(err).toBe('');
    const report = JSON.parse(out);
    expect(report).toMatchObject({ symbol: 'SPX', featureNames: [...DEFAULT_FEATURE_NAMES], warmup: 33 });
    expect(report.rows).toEqual(featureFrameToRecords(frame));
  });

  it('prints a fixed-width table of date and features to 6 significant digits', async () => {
    const { out } = await run(['--data', SPX_CSV]);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 5072);
    expect(lines[0]!.trim().split(/\s+/)).toEqual(['date', ...DEFAULT_FEATURE_NAMES]);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
    const line = lines.find((l) => l.startsWith('2008-10-10'))!;
    expect(line.split(/\s+/)).toEqual(['2008-10-10', ...frame.rows[rowOf(frame, '2008-10-10')]!.map((x) => x.toPrecision(6))]);
  });

  it('formats a table exactly', () => {
    const tiny: FeatureFrame = {
      symbol: 'T',
      featureNames: ['rsi', 'ret_1'],
      dates: ['2024-01-02', '2024-01-03'],
      close: [1, 2],
      rows: [
        [0.5, -0.0123456789],
        [0.25, 1e-7],
      ],
      warmup: 0,
    };
    expect(formatFeatureTable(tiny)).toBe(
      'date             rsi       ret_1\n' + '2024-01-02  0.500000  -0.0123457\n' + '2024-01-03  0.250000  1.00000e-7\n',
    );
  });

  it('needs --symbol for a folder of several symbols, and reports dropped rows on stderr', async () => {
    await expect(run(['--data', dir])).rejects.toThrow('the source holds 2 symbols (AAA, BBB): choose one with --symbol');
    const { out, err } = await run(['--data', dir, '--symbol', 'BBB', '--json']);
    expect(err).toBe('BBB 2024-01-03 high: high 9 below low 10 (line 3)\n');
    expect(JSON.parse(out)).toEqual({ symbol: 'BBB', featureNames: [...DEFAULT_FEATURE_NAMES], warmup: 1, rows: [] });
    await expect(run(['--data', dir, '--symbol', 'BBB', '--strict'])).rejects.toThrow('BBB: no valid bars (rejected in --strict mode)');
  });
});
