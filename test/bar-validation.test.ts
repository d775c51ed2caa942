import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { formatBarProblem, validateBars } from '../plugin/bar-validation.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lstm-bar-validation-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEADER = 'date,open,high,low,close,volume';

/** Writes `BAD.csv` (header on line 1, then `rows`) and loads it. */
async function loadCsv(rows: string[], strict = false) {
  const file = join(dir, 'BAD.csv');
  await writeFile(file, [HEADER, ...rows].join('\n'));
  return new CsvBarSource(file, { strict }).load('BAD');
}

const bar = (date: string, open: number, high: number, low: number, close: number, volume: number) => ({
  symbol: 'BAD',
  date,
  open,
  high,
  low,
  close,
  volume,
});

describe('validateBars through a CSV file, default mode', () => {
  it('refuses dates that are not real calendar dates', async () => {
    const result = await loadCsv([
      '2020-13-01,100,110,90,105,1000',
      '2021-02-29,100,110,90,105,1000',
      '02/01/2020,100,110,90,105,1000',
      ',100,110,90,105,1000',
      '2020-01-02,100,110,90,105,1000',
    ]);
    expect(result.problems).toEqual([
      { symbol: 'BAD', date: '2020-13-01', field: 'date', message: 'unparsable date "2020-13-01": expected a calendar date YYYY-MM-DD', line: 2 },
      { symbol: 'BAD', date: '2021-02-29', field: 'date', message: 'unparsable date "2021-02-29": expected a calendar date YYYY-MM-DD', line: 3 },
      { symbol: 'BAD', date: '02/01/2020', field: 'date', message: 'unparsable date "02/01/2020": expected a calendar date YYYY-MM-DD', line: 4 },
      { symbol: 'BAD', date: '', field: 'date', message: 'unparsable date "": expected a calendar date YYYY-MM-DD', line: 5 },
    ]);
    expect(result.bars).toEqual([bar('2020-01-02', 100, 110, 90, 105, 1000)]);
    expect(result.rows).toBe(5);
    expect(result.rejected).toBe(false);
  });

  it('normalises YYYY/MM/DD, ISO timestamps and DATETIME text to the date as written', async () => {
    const result = await loadCsv([
      '2020/01/02,100,110,90,105,1000',
      '2020-01-03T00:00:00Z,100,110,90,105,1000',
      '2020-01-06T16:00:00-05:00,100,110,90,105,1000',
      '2020-01-07 00:00:00,100,110,90,105,1000',
      '2024-02-29T09:30,100,110,90,105,1000',
    ]);
    expect(result.problems).toEqual([]);
    expect(result.bars.map((b) => b.date)).toEqual(['2020-01-02', '2020-01-03', '2020-01-06', '2020-01-07', '2024-02-29']);
  });

  it('refuses non-numeric, non-finite and non-positive prices, naming the price', async () => {
    const result = await loadCsv([
      '2020-01-02,abc,110,90,105,1000',
      '2020-01-03,100,,90,105,1000',
      '2020-01-06,100,110,0,105,1000',
      '2020-01-07,100,110,90,-105,1000',
      '2020-01-08,100,1e999,90,105,1000',
      '2020-01-09,0x64,110,90,105,1000',
      '2020-01-10,100,110,90,105',
      '2020-01-13,100.5,110.25,90.125,105,1000',
    ]);
    expect(result.problems).toEqual([
      { symbol: 'BAD', date: '2020-01-02', field: 'open', message: 'open "abc" is not a number', line: 2 },
      { symbol: 'BAD', date: '2020-01-03', field: 'high', message: 'high is missing', line: 3 },
      { symbol: 'BAD', date: '2020-01-06', field: 'low', message: 'low 0 is not positive', line: 4 },
      { symbol: 'BAD', date: '2020-01-07', field: 'close', message: 'close -105 is not positive', line: 5 },
      { symbol: 'BAD', date: '2020-01-08', field: 'high', message: 'high 1e999 is not finite', line: 6 },
      { symbol: 'BAD', date: '2020-01-09', field: 'open', message: 'open "0x64" is not a number', line: 7 },
      { symbol: 'BAD', date: '2020-01-10', field: 'volume', message: 'volume is missing', line: 8 },
    ]);
    expect(result.bars).toEqual([bar('2020-01-13', 100.5, 110.25, 90.125, 105, 1000)]);
  });

  it('refuses high below low, and open or close outside the range', async () => {
    const result = await loadCsv([
      '2020-01-02,100,90,110,100,1000',
      '2020-01-03,120,110,90,105,1000',
      '2020-01-06,100,110,90,89.5,1000',
      '2020-01-07,80,110,90,111,1000',
      '2020-01-08,90,110,90,110,1000',
    ]);
    expect(result.problems).toEqual([
      { symbol: 'BAD', date: '2020-01-02', field: 'high', message: 'high 90 below low 110', line: 2 },
      { symbol: 'BAD', date: '2020-01-03', field: 'open', message: 'open 120 outside [low 90, high 110]', line: 3 },
      { symbol: 'BAD', date: '2020-01-06', field: 'close', message: 'close 89.5 outside [low 90, high 110]', line: 4 },
      { symbol: 'BAD', date: '2020-01-07', field: 'open', message: 'open 80 outside [low 90, high 110]', line: 5 },
      { symbol: 'BAD', date: '2020-01-07', field: 'close', message: 'close 111 outside [low 90, high 110]', line: 5 },
    ]);
    // Open and close exactly at the low and high are inside the range.
    expect(result.bars).toEqual([bar('2020-01-08', 90, 110, 90, 110, 1000)]);
    expect(result.rows).toBe(5);
  });

  it('refuses negative or non-finite volume and accepts volume 0', async () => {
    const result = await loadCsv([
      '2020-01-02,100,110,90,105,-5',
      '2020-01-03,100,110,90,105,1e400',
      '2020-01-06,100,110,90,105,NaN',
      '2020-01-07,100,110,90,105,0',
    ]);
    expect(result.problems).toEqual([
      { symbol: 'BAD', date: '2020-01-02', field: 'volume', message: 'volume -5 is negative', line: 2 },
      { symbol: 'BAD', date: '2020-01-03', field: 'volume', message: 'volume 1e400 is not finite', line: 3 },
      { symbol: 'BAD', date: '2020-01-06', field: 'volume', message: 'volume "NaN" is not a number', line: 4 },
    ]);
    expect(result.bars).toEqual([bar('2020-01-07', 100, 110, 90, 105, 0)]);
  });

  it('keeps the first of duplicate dates and drops rows dated before the previous accepted one', async () => {
    const result = await loadCsv([
      '2020-01-02,100,110,90,105,1000',
      '2020-01-06,100,110,90,105,1000',
      '2020-01-06,101,111,91,106,2000',
      '2020/01/02,100,110,90,105,1000',
      '2020-01-03,100,110,90,105,1000',
      '2020-01-07,120,110,90,105,1000',
      '2020-01-07,100,110,90,105,1000',
    ]);
    expect(result.problems).toEqual([
      { symbol: 'BAD', date: '2020-01-06', field: 'date', message: 'duplicate date 2020-01-06: kept the first (2020-01-06, line 3)', line: 4 },
      { symbol: 'BAD', date: '2020/01/02', field: 'date', message: 'duplicate date 2020-01-02: kept the first (2020-01-02, line 2)', line: 5 },
      {
        symbol: 'BAD',
        date: '2020-01-03',
        field: 'date',
        message: 'out of order: dated before the previous accepted row (2020-01-06, line 3)',
        line: 6,
      },
      { symbol: 'BAD', date: '2020-01-07', field: 'open', message: 'open 120 outside [low 90, high 110]', line: 7 },
    ]);
    // A dropped row does not claim its date: the valid 2020-01-07 after the bad one is accepted.
    expect(result.bars).toEqual([
      bar('2020-01-02', 100, 110, 90, 105, 1000),
      bar('2020-01-06', 100, 110, 90, 105, 1000),
      bar('2020-01-07', 100, 110, 90, 105, 1000),
    ]);
  });
});

describe('validateBars through a CSV file, strict mode', () => {
  const rows = [
    '2020-01-02,100,110,90,105,1000',
    '2020-01-03,100,90,110,100,1000',
    '2020-01-06,100,110,90,105,-1',
    '2020-01-06,100,110,90,105,1000',
    '2020-01-07,100,110,90,105,1000',
  ];

  it('accepts nothing and reports every problem', async () => {
    const result = await loadCsv(rows, true);
    expect(result).toEqual({
      symbol: 'BAD',
      rows: 5,
      bars: [],
      rejected: true,
      problems: [
        { symbol: 'BAD', date: '2020-01-03', field: 'high', message: 'high 90 below low 110', line: 3 },
        { symbol: 'BAD', date: '2020-01-06', field: 'volume', message: 'volume -1 is negative', line: 4 },
      ],
    });
  });

  it('reports the same problems as default mode, which keeps the good rows', async () => {
    const strict = await loadCsv(rows, true);
    const lenient = await loadCsv(rows, false);
    expect(lenient.problems).toEqual(strict.problems);
    expect(lenient.rejected).toBe(false);
    expect(lenient.bars.map((b) => b.date)).toEqual(['2020-01-02', '2020-01-06', '2020-01-07']);
  });

  it('accepts a clean series whole', async () => {
    const result = await loadCsv([rows[0]!, rows[4]!], true);
    expect(result.rejected).toBe(false);
    expect(result.problems).toEqual([]);
    expect(result.bars).toEqual([bar('2020-01-02', 100, 110, 90, 105, 1000), bar('2020-01-07', 100, 110, 90, 105, 1000)]);
  });
});

describe('validateBars on database values', () => {
  it('takes numbers and numeric strings, reports null as missing and NaN/Infinity by value, and has no line', () => {
    const result = validateBars(
      'DB',
      [
        { date: '2020-01-02', open: 100, high: '110.5000', low: 90, close: 105, volume: 1000 },
        { date: '2020-01-03', open: null, high: 110, low: 90, close: 105, volume: 1000 },
        { date: '2020-01-06', open: 100, high: 110, low: 90, close: Number.NaN, volume: Number.POSITIVE_INFINITY },
      ],
      { strict: false },
    );
    expect(result.problems).toEqual([
      { symbol: 'DB', date: '2020-01-03', field: 'open', message: 'open is missing' },
      { symbol: 'DB', date: '2020-01-06', field: 'close', message: 'close NaN is not a number' },
      { symbol: 'DB', date: '2020-01-06', field: 'volume', message: 'volume Infinity is not finite' },
    ]);
    expect(result.bars).toEqual([{ symbol: 'DB', date: '2020-01-02', open: 100, high: 110.5, low: 90, close: 105, volume: 1000 }]);
  });
});

describe('formatBarProblem', () => {
  it('gives one line naming symbol, date, field, message and line', () => {
    expect(
      formatBarProblem({
        symbol: 'SPX',
        date: '2001-09-11',
        field: 'close',
        message: 'close 1200 outside [low 1210, high 1250]',
        line: 432,
      }),
    ).toBe('SPX 2001-09-11 close: close 1200 outside [low 1210, high 1250] (line 432)');
  });

  it('omits an unknown line and shows an empty date', () => {
    expect(formatBarProblem({ symbol: 'DB', date: '', field: 'date', message: 'unparsable date ""' })).toBe(
      'DB (no date) date: unparsable date ""',
    );
  });
});
