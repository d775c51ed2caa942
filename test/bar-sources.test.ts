import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { createConnection } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CsvRecordReader } from '../adapters/bars/csv-records.js';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { MysqlStockDailySource } from '../adapters/bars/mysql-stock-daily.js';
import { checkBars, formatBarsCheck, registerBarsCommands } from '../adapters/standalone/commands/bars.js';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { runCli } from './support/cli.js';
import { createScratchMysqlDatabase, describeMysql } from './support/databases.js';

const SPX_CSV = fileURLToPath(new URL('../data/SPX.csv', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lstm-bar-sources-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

describe('CsvBarSource', () => {
  it('loads the S&P 500 file clean', async () => {
    const source = new CsvBarSource(SPX_CSV, { strict: true });
    expect(await source.symbols()).toEqual(['SPX']);
    const result = await source.load('SPX');
    expect(result.problems).toEqual([]);
    expect(result.rejected).toBe(false);
    expect(result.rows).toBe(5105);
    expect(result.bars.length).toBe(5105);
    expect(result.bars[0]).toEqual({
      symbol: 'SPX',
      date: '2000-01-03',
      open: 1469.25,
      high: 1478,
      low: 1438.359985,
      close: 1455.219971,
      volume: 931800000,
    });
    expect(result.bars.at(-1)).toEqual({
      symbol: 'SPX',
      date: '2020-04-17',
      open: 2842.429932,
      high: 2879.219971,
      low: 2830.879883,
      close: 2874.560059,
      volume: 5792140000,
    });
  });

  it('matches headers case-insensitively in any order and ignores extra columns', async () => {
    const file = await write(
      'headers/ACME.csv',
      ' Volume ,CLOSE,AdjClose,Low,High,Open,Date,Note\n1000,105,104,90,110,100,2020-01-02,x\n2000,106,105,91,111,101,2020-01-03,\n',
    );
    const result = await new CsvBarSource(file, { strict: false }).load('ACME');
    expect(result.problems).toEqual([]);
    expect(result.bars).toEqual([
      { symbol: 'ACME', date: '2020-01-02', open: 100, high: 110, low: 90, close: 105, volume: 1000 },
      { symbol: 'ACME', date: '2020-01-03', open: 101, high: 111, low: 91, close: 106, volume: 2000 },
    ]);
  });

  it('handles a BOM, CRLF, quotes and blank lines, reporting the line each row starts on', async () => {
    const file = await write(
      'quoted/Q.csv',
      '\uFEFF"date","open","high","low","close","volume","note"\r\n' +
        '2020-01-02,100,110,90,105,1000,"a, b"\r\n' +
        ' \r\n' +
        '2020-01-03,100,110,90,105,1000,"spans\r\ntwo lines with ""quotes"""\r\n' +
        '"2020-01-06","100","110","90","111","1,000",\r\n' +
        '2020-01-07,100,110,90,105,1000,',
    );
    const result = await new CsvBarSource(file, { strict: false }).load('Q');
    expect(result.rows).toBe(4);
    expect(result.problems).toEqual([
      { symbol: 'Q', date: '2020-01-06', field: 'close', message: 'close 111 outside [low 90, high 110]', line: 6 },
      { symbol: 'Q', date: '2020-01-06', field: 'volume', message: 'volume "1,000" is not a number', line: 6 },
    ]);
    expect(result.bars.map((b) => b.date)).toEqual(['2020-01-02', '2020-01-03', '2020-01-07']);
  });

  it('names the file and the column when a required column is missing', async () => {
    const file = await write('missing/NOVOL.csv', 'date,open,high,low,close,adjclose\n2020-01-02,100,110,90,105,105\n');
    await expect(new CsvBarSource(file, { strict: false }).load('NOVOL')).rejects.toThrow(
      `${file}: missing required column "volume" (header: date,open,high,low,close,adjclose)`,
    );
  });

  it('refuses an ambiguous header, an empty file and an unterminated quote', async () => {
    const twice = await write('bad/TWICE.csv', 'date,open,high,low,close,Close,volume\n');
    await expect(new CsvBarSource(twice, { strict: false }).load('TWICE')).rejects.toThrow(`${twice}: column "close" appears twice`);
    const empty = await write('bad/EMPTY.csv', '');
    await expect(new CsvBarSource(empty, { strict: false }).load('EMPTY')).rejects.toThrow(`${empty}: empty file, expected a header line`);
    const open = await write('bad/OPEN.csv', 'date,open,high,low,close,volume\n2020-01-02,"100,110,90,105,1000\n');
    await expect(new CsvBarSource(open, { strict: false }).load('OPEN')).rejects.toThrow(
      `${open}: unterminated quoted field starting on line 2`,
    );
  });

  it('names a single file by the symbol option, else by its file name', async () => {
    const file = await write('named/spx-daily.csv', 'date,open,high,low,close,volume\n2020-01-02,100,110,90,105,1000\n');
    expect(await new CsvBarSource(file, { strict: false }).symbols()).toEqual(['spx-daily']);
    const named = new CsvBarSource(file, { strict: false, symbol: 'SPX' });
    expect(await named.symbols()).toEqual(['SPX']);
    expect((await named.load('SPX')).bars[0]?.symbol).toBe('SPX');
    await expect(named.load('spx-daily')).rejects.toThrow(`${file}: no CSV for symbol "spx-daily"`);
  });

  it('serves a folder of SYMBOL.csv files, sorted, ignoring other files', async () => {
    const folder = join(dir, 'folder');
    await write('folder/MSFT.csv', 'date,open,high,low,close,volume\n2020-01-02,158.78,160.73,158.33,160.62,22622100\n');
    await write('folder/AAPL.csv', 'Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,74.06,75.15,73.80,75.09,73.15,135480400\n');
    await write('folder/README.txt', 'not bars\n');
    await mkdir(join(folder, 'old.csv'));
    const source = new CsvBarSource(folder, { strict: false });
    expect(await source.symbols()).toEqual(['AAPL', 'MSFT']);
    expect((await source.load('AAPL')).bars).toEqual([
      { symbol: 'AAPL', date: '2020-01-02', open: 74.06, high: 75.15, low: 73.8, close: 75.09, volume: 135480400 },
    ]);
    expect((await source.load('MSFT')).bars).toEqual([
      { symbol: 'MSFT', date: '2020-01-02', open: 158.78, high: 160.73, low: 158.33, close: 160.62, volume: 22622100 },
    ]);
    await expect(source.load('IBM')).rejects.toThrow(`${folder}: no CSV for symbol "IBM"`);
    expect(await new CsvBarSource(folder, { strict: false, symbol: 'MSFT' }).symbols()).toEqual(['MSFT']);
  });
});

describe('CsvBarSource with a symbol column', () => {
  // Rows interleaved by date; AAA's close of 2020-01-03 (line 4) lies outside its range.
  const interleaved =
    'date,Symbol,open,high,low,close,volume\n' +
    '2020-01-02,AAA,1,1,1,1,10\n' +
    '2020-01-02,BBB,2,2,2,2,20\n' +
    '2020-01-03,AAA,1,1,1,9,10\n' +
    '2020-01-03,BBB,2,2,2,2,20\n' +
    '2020-01-06,AAA,1,1,1,1,10\n';
  const aaa = (date: string) => ({ symbol: 'AAA', date, open: 1, high: 1, low: 1, close: 1, volume: 10 });
  const bbb = (date: string) => ({ symbol: 'BBB', date, open: 2, high: 2, low: 2, close: 2, volume: 20 });
  const problem = { symbol: 'AAA', date: '2020-01-03', field: 'close', message: 'close 9 outside [low 1, high 1]', line: 4 };

  it('serves each symbol of the column, rows interleaved, with the line of each row', async () => {
    const source = new CsvBarSource(await write('multi/universe.csv', interleaved), { strict: false });
    expect(await source.symbols()).toEqual(['AAA', 'BBB']);
    const a = await source.load('AAA');
    expect([a.rows, a.bars, a.problems]).toEqual([3, [aaa('2020-01-02'), aaa('2020-01-06')], [problem]]);
    expect((await source.load('BBB')).bars).toEqual([bbb('2020-01-02'), bbb('2020-01-03')]);
  });

  it('serves the same from rows grouped by symbol with CRLF line ends; the symbol option picks one', async () => {
    const lines = interleaved.trimEnd().split('\n');
    const grouped = [lines[0], lines[1], lines[3], lines[5], lines[2], lines[4]].join('\r\n');
    const file = await write('multi/grouped.csv', grouped);
    const a = await new CsvBarSource(file, { strict: false }).load('AAA');
    // Grouped, AAA's bad row is on line 3.
    expect([a.bars, a.problems]).toEqual([[aaa('2020-01-02'), aaa('2020-01-06')], [{ ...problem, line: 3 }]]);
    const onlyB = new CsvBarSource(file, { strict: false, symbol: 'BBB' });
    expect(await onlyB.symbols()).toEqual(['BBB']);
    expect((await onlyB.load('BBB')).bars).toEqual([bbb('2020-01-02'), bbb('2020-01-03')]);
  });

  it('refuses a row without a symbol, naming the file and the line', async () => {
    const file = await write('multi/nosymbol.csv', `${interleaved}2020-01-07, ,1,1,1,1,10\n`);
    await expect(new CsvBarSource(file, { strict: false }).symbols()).rejects.toThrow(
      `${file}: line 7: no symbol (every row of a file with a symbol column needs one)`,
    );
  });

  it('is stored symbol by symbol by lstm-signals ingest', async () => {
    const file = await write('multi/ingest.csv', interleaved);
    const result = await runCli(['ingest', '--data', file, '--db', `sqlite:${join(dir, 'multi/ingest.sqlite')}`], { cwd: dir });
    expect(result.stdout.split('\n').filter((line) => line.includes(': stored'))).toEqual([
      'AAA: stored 2 new, 0 revised, 0 unchanged',
      'BBB: stored 2 new, 0 revised, 0 unchanged',
    ]);
  });
});

describe('CsvRecordReader', () => {
  // Line 1: a quoted header; 2: a doubled quote, CRLF; 3: blank; 4-5: a quoted CRLF; 6: a bare quote, ends with CR; 7: no line end.
  const text = '"a","b"\n1,"say ""hi"""\r\n\r\n2,"two\r\nlines"\n3,x"y\r4,5';
  const expected = [
    { line: 1, start: 0, fields: ['a', 'b'] },
    { line: 2, start: 8, fields: ['1', 'say "hi"'] },
    { line: 4, start: 26, fields: ['2', 'two\nlines'] },
    { line: 6, start: 41, fields: ['3', 'x"y'] },
    { line: 7, start: 47, fields: ['4', '5'] },
  ];
  const readAll = (chunkBytes: number) => {
    const bytes = Buffer.from(text);
    const reader = new CsvRecordReader('T.csv');
    const records = [];
    for (let i = 0; i < bytes.length; i += chunkBytes) records.push(...reader.push(bytes.subarray(i, i + chunkBytes)));
    return [...records, ...reader.end()];
  };

  it('gives every record with its first line and byte offset, however the bytes are cut into chunks', () => {
    for (const chunkBytes of [1, 2, 3, 5, 64]) expect(readAll(chunkBytes)).toEqual(expected);
  });

  it('names the line an unterminated quote opened on', () => {
    const reader = new CsvRecordReader('T.csv');
    reader.push(Buffer.from('a,b\n1,"open\n2,3\n'));
    expect(() => reader.end()).toThrow('T.csv: unterminated quoted field starting on line 2');
  });
});

describe('StandaloneHost and its bar source', () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };

  it('without a clock reads a symbol from the source each time it is asked; with one it keeps the bars it replays', async () => {
    const header = 'date,open,high,low,close,volume\n';
    const file = await write('host/H.csv', `${header}2020-01-02,1,1,1,1,10\n`);
    const live = new StandaloneHost({ source: new CsvBarSource(file, { strict: false }), logger: quiet });
    const replay = new StandaloneHost({ source: new CsvBarSource(file, { strict: false }), logger: quiet, now: '2020-01-06' });
    expect((await live.bars.history('H', {})).length).toBe(1);
    expect((await replay.bars.history('H', {})).length).toBe(1);
    await writeFile(file, `${header}2020-01-02,1,1,1,1,10\n2020-01-03,1,1,1,1,10\n`);
    expect((await live.bars.history('H', {})).length).toBe(2);
    expect((await replay.bars.history('H', {})).length).toBe(1);
  });
});

describe('bars check', () => {
  let folder: string;
  beforeAll(async () => {
    folder = join(dir, 'check');
    await write('check/GOOD.csv', 'date,open,high,low,close,volume\n2020-01-02,100,110,90,105,1000\n2020-01-03,100,110,90,105,1000\n');
    await write(
      'check/BAD.csv',
      'date,open,high,low,close,volume\n2020-01-02,100,110,90,105,1000\n2020-01-03,100,110,90,120,1000\n2020-01-06,100,110,90,105,1000\n',
    );
  });

  const closeProblem = {
    symbol: 'BAD',
    date: '2020-01-03',
    field: 'close',
    message: 'close 120 outside [low 90, high 110]',
    line: 3,
  };

  it('summarises each symbol: rows read, accepted, dropped, first and last session', async () => {
    const report = await checkBars(new CsvBarSource(folder, { strict: false }));
    expect(report).toEqual({
      symbols: [
        { symbol: 'BAD', rows: 3, accepted: 2, dropped: 1, first: '2020-01-02', last: '2020-01-06', rejected: false, problems: [closeProblem] },
        { symbol: 'GOOD', rows: 2, accepted: 2, dropped: 0, first: '2020-01-02', last: '2020-01-03', rejected: false, problems: [] },
      ],
    });
    expect(formatBarsCheck(report)).toBe(
      'BAD 2020-01-03 close: close 120 outside [low 90, high 110] (line 3)\n' +
        'BAD: read 3, accepted 2, dropped 1, 2020-01-02..2020-01-06\n' +
        'GOOD: read 2, accepted 2, dropped 0, 2020-01-02..2020-01-03\n',
    );
  });

  /** Runs the registered command as the CLI would and returns what it printed and its exit code. */
  async function run(args: string[]): Promise<{ out: string; exitCode: number | string | null | undefined }> {
    let out = '';
    // Usage errors are asserted from the thrown CommanderError; keep commander's copy of them off the console.
    const program = new Command().exitOverride().configureOutput({ writeOut: (text) => (out += text), writeErr: () => {} });
    registerBarsCommands(program);
    await program.parseAsync(['bars', 'check', ...args], { from: 'user' });
    return { out, exitCode: process.exitCode };
  }

  afterEach(() => {
    process.exitCode = undefined;
  });

  it('exits 0 in default mode even when rows were dropped', async () => {
    expect(await run(['--data', folder])).toEqual({
      out:
        'BAD 2020-01-03 close: close 120 outside [low 90, high 110] (line 3)\n' +
        'BAD: read 3, accepted 2, dropped 1, 2020-01-02..2020-01-06\n' +
        'GOOD: read 2, accepted 2, dropped 0, 2020-01-02..2020-01-03\n',
      exitCode: 0,
    });
  });

  it('exits 1 in strict mode on any problem, and 0 when clean', async () => {
    expect(await run(['--data', folder, '--strict'])).toEqual({
      out:
        'BAD 2020-01-03 close: close 120 outside [low 90, high 110] (line 3)\n' +
        'BAD: read 3, accepted 0, dropped 3, no bars (rejected: strict mode)\n' +
        'GOOD: read 2, accepted 2, dropped 0, 2020-01-02..2020-01-03\n',
      exitCode: 1,
    });
    expect(await run(['--data', folder, '--symbol', 'GOOD', '--strict'])).toEqual({
      out: 'GOOD: read 2, accepted 2, dropped 0, 2020-01-02..2020-01-03\n',
      exitCode: 0,
    });
  });

  it('prints JSON with --json', async () => {
    const { out, exitCode } = await run(['--data', join(folder, 'BAD.csv'), '--json']);
    expect(JSON.parse(out)).toEqual({
      symbols: [
        { symbol: 'BAD', rows: 3, accepted: 2, dropped: 1, first: '2020-01-02', last: '2020-01-06', rejected: false, problems: [closeProblem] },
      ],
    });
    expect(exitCode).toBe(0);
  });

  it('checks the S&P 500 file clean', async () => {
    expect(await run(['--data', SPX_CSV, '--strict'])).toEqual({
      out: 'SPX: read 5105, accepted 5105, dropped 0, 2000-01-03..2020-04-17\n',
      exitCode: 0,
    });
  });

  it('needs exactly one of --data and --mysql-url', async () => {
    await expect(run([])).rejects.toThrow('bars check: give either --data PATH or --mysql-url URL');
    await expect(run(['--data', folder, '--mysql-url', 'mysql://root@127.0.0.1/x'])).rejects.toThrow(
      "option '--data <path>' cannot be used with option '--mysql-url <url>'",
    );
  });
});

describeMysql('MysqlStockDailySource', () => {
  let scratch: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    scratch = await createScratchMysqlDatabase();
    const db = await createConnection(scratch.url);
    await db.query(`CREATE TABLE quotes (
      code VARCHAR(16) NOT NULL, trade_day DATE NOT NULL,
      open_px DECIMAL(12,4), high_px DECIMAL(12,4), low_px DECIMAL(12,4), close_px DOUBLE, vol BIGINT)`);
    // No key: rows come back in insertion order unless the source orders them.
    await db.query('INSERT INTO quotes VALUES ?', [
      [
        ['AAA', '2020-01-03', 101, 111, 91, 106, 2000],
        ['AAA', '2020-01-02', 100, 110, 90, 105, 1000],
        ['AAA', '2020-01-06', 100, 90, 110, 100, 1000],
        ['AAA', '2020-01-07', 100, 110, 90, 105, null],
        ['BBB', '2020-01-02', 50.5, 51.25, 49.75, 51, 0],
      ],
    ]);
    // The default layout, with DATETIME session stamps.
    await db.query(`CREATE TABLE stock_daily (
      symbol VARCHAR(16), trade_date DATETIME, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume BIGINT)`);
    await db.query('INSERT INTO stock_daily VALUES ?', [
      [
        ['CCC', '2020-01-02 00:00:00', 10, 11, 9, 10.5, 500],
        ['CCC', '2020-01-03 00:00:00', 10.5, 11.5, 10, 11, 600],
      ],
    ]);
    await db.end();
  });

  afterAll(async () => {
    await scratch?.drop();
  });

  const quotes = (strict: boolean) =>
    new MysqlStockDailySource({
      url: scratch.url,
      table: 'quotes',
      columns: { symbol: 'code', date: 'trade_day', open: 'open_px', high: 'high_px', low: 'low_px', close: 'close_px', volume: 'vol' },
      strict,
    });

  it('reads configured columns, ordered by date, through validation', async () => {
    const source = quotes(false);
    try {
      expect(await source.symbols()).toEqual(['AAA', 'BBB']);
      const aaa = await source.load('AAA');
      expect(aaa.rows).toBe(4);
      expect(aaa.bars).toEqual([
        { symbol: 'AAA', date: '2020-01-02', open: 100, high: 110, low: 90, close: 105, volume: 1000 },
        { symbol: 'AAA', date: '2020-01-03', open: 101, high: 111, low: 91, close: 106, volume: 2000 },
      ]);
      expect(aaa.problems).toEqual([
        { symbol: 'AAA', date: '2020-01-06', field: 'high', message: 'high 90 below low 110' },
        { symbol: 'AAA', date: '2020-01-07', field: 'volume', message: 'volume is missing' },
      ]);
      expect((await source.load('BBB')).bars).toEqual([
        { symbol: 'BBB', date: '2020-01-02', open: 50.5, high: 51.25, low: 49.75, close: 51, volume: 0 },
      ]);
      await expect(source.load('ZZZ')).rejects.toThrow('no rows for symbol "ZZZ" in table quotes');
    } finally {
      await source.close();
    }
  });

  it('rejects a symbol with problems in strict mode', async () => {
    const source = quotes(true);
    try {
      const aaa = await source.load('AAA');
      expect(aaa.rejected).toBe(true);
      expect(aaa.bars).toEqual([]);
      expect(aaa.problems.map((p) => p.field)).toEqual(['high', 'volume']);
      expect((await source.load('BBB')).rejected).toBe(false);
    } finally {
      await source.close();
    }
  });

  it('reads the default stock_daily layout and turns DATETIME into session dates', async () => {
    const source = new MysqlStockDailySource({ url: scratch.url, strict: true });
    try {
      expect(await source.symbols()).toEqual(['CCC']);
      expect((await source.load('CCC')).bars).toEqual([
        { symbol: 'CCC', date: '2020-01-02', open: 10, high: 11, low: 9, close: 10.5, volume: 500 },
        { symbol: 'CCC', date: '2020-01-03', open: 10.5, high: 11.5, low: 10, close: 11, volume: 600 },
      ]);
    } finally {
      await source.close();
    }
  });

  it('refuses identifiers that are not plain names', () => {
    expect(() => new MysqlStockDailySource({ url: scratch.url, strict: false, columns: { close: 'close; DROP TABLE x' } })).toThrow(
      'MysqlStockDailySource: option columns.close "close; DROP TABLE x" is not a plain identifier (letters, digits, _)',
    );
    expect(() => new MysqlStockDailySource({ url: scratch.url, strict: false, table: 'quotes`--' })).toThrow(
      'MysqlStockDailySource: option table "quotes`--" is not a plain identifier (letters, digits, _)',
    );
  });

  it('is checked by bars check with --mysql-url, --table and --columns', async () => {
    let out = '';
    const program = new Command().configureOutput({ writeOut: (text) => (out += text) });
    registerBarsCommands(program);
    await program.parseAsync(
      [
        'bars', 'check', '--mysql-url', scratch.url, '--table', 'quotes', '--strict',
        '--columns', 'symbol=code,date=trade_day,open=open_px,high=high_px,low=low_px,close=close_px,volume=vol',
      ],
      { from: 'user' },
    );
    expect(out).toBe(
      'AAA 2020-01-06 high: high 90 below low 110\n' +
        'AAA 2020-01-07 volume: volume is missing\n' +
        'AAA: read 4, accepted 0, dropped 4, no bars (rejected: strict mode)\n' +
        'BBB: read 1, accepted 1, dropped 0, 2020-01-02..2020-01-02\n',
    );
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
  });
});
