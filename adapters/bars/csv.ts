/**
 * Daily bars from CSV: one file (one symbol, or several with a `symbol` column) or a folder holding `SYMBOL.csv` per
 * symbol. Columns date, open, high, low, close, volume (and symbol), matched case-insensitively in any order; others
 * are ignored. Files are streamed: a symbol's rows are read when it is loaded, so memory holds one symbol at a time.
 */
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BarSeriesValidator, type BarValidationResult, type RawBarRow } from '../../plugin/index.js';
import { CsvRecordReader, type CsvRecord } from './csv-records.js';
import { wallClockToday, type BarSource, type BarSourceOptions } from './source.js';

const REQUIRED_COLUMNS = ['date', 'open', 'high', 'low', 'close', 'volume'] as const;
const SYMBOL_COLUMN = 'symbol';
const CSV_EXTENSION = /\.csv$/i;
const CHUNK_BYTES = 1 << 20;

type Columns = Record<(typeof REQUIRED_COLUMNS)[number], number> & { symbol?: number };

/** Bytes [start, end) of a file, beginning on `line`. */
interface ByteRange {
  start: number;
  end: number;
  line: number;
}

/**
 * Where one symbol's rows are: its file and, when the file holds several symbols, its columns and the runs of
 * consecutive rows that are the symbol's (one run when the file is sorted by symbol). Without runs: every row after
 * the header.
 */
interface SymbolRows {
  file: string;
  runs?: { columns: Columns; ranges: RangeList };
}

/** Byte ranges as flat (start, end, line) triples: a file interleaved by date has one per row, kept in 24 bytes each. */
type RangeList = number[];

function* rangesOf(list: RangeList): Generator<ByteRange> {
  for (let i = 0; i < list.length; i += 3) yield { start: list[i]!, end: list[i + 1]!, line: list[i + 2]! };
}

/** An open file read through a 1 MiB window, so many short ranges close together (rows interleaved by date) cost one read. */
class FileWindow {
  private readonly buffer = Buffer.alloc(CHUNK_BYTES);
  private start = 0;
  private length = 0;

  constructor(private readonly handle: FileHandle) {}

  /** The bytes from `position` up to `end` that the window holds (read first when it does not hold `position`). */
  async bytes(position: number, end: number): Promise<Buffer> {
    if (position < this.start || position >= this.start + this.length) {
      this.length = (await this.handle.read(this.buffer, 0, CHUNK_BYTES, position)).bytesRead;
      this.start = position;
    }
    return this.buffer.subarray(position - this.start, Math.max(0, Math.min(this.length, end - this.start)));
  }
}

/** Streams `range` of a file through a record reader; `onRecords` returning false stops early. */
async function readRecords(window: FileWindow, file: string, range: ByteRange, onRecords: (records: CsvRecord[]) => boolean | void): Promise<void> {
  const reader = new CsvRecordReader(file, { offset: range.start, line: range.line });
  for (let position = range.start; position < range.end; ) {
    const chunk = await window.bytes(position, range.end);
    if (chunk.length === 0) break;
    position += chunk.length;
    if (onRecords(reader.push(chunk)) === false) return;
  }
  onRecords(reader.end());
}

const emptyFile = (file: string) => new Error(`${file}: empty file, expected a header line`);

/** Column positions from a header record; errors name `file`. */
function columnsOf(file: string, header: CsvRecord | undefined): Columns {
  if (!header) throw emptyFile(file);
  const names = header.fields.map((name) => name.trim().toLowerCase());
  const position = (name: string, required: boolean) => {
    const i = names.indexOf(name);
    if (i < 0 && required) throw new Error(`${file}: missing required column "${name}" (header: ${header.fields.join(',')})`);
    if (i >= 0 && names.indexOf(name, i + 1) >= 0) throw new Error(`${file}: column "${name}" appears twice`);
    return i;
  };
  const columns = Object.fromEntries(REQUIRED_COLUMNS.map((name) => [name, position(name, true)])) as Columns;
  const symbol = position(SYMBOL_COLUMN, false);
  return symbol < 0 ? columns : { ...columns, symbol };
}

function rowOf({ line, fields }: CsvRecord, column: Columns): RawBarRow {
  return {
    line,
    date: fields[column.date] ?? '',
    open: fields[column.open],
    high: fields[column.high],
    low: fields[column.low],
    close: fields[column.close],
    volume: fields[column.volume],
  };
}

async function withFile<T>(file: string, work: (window: FileWindow, size: number) => Promise<T>): Promise<T> {
  const handle = await open(file, 'r');
  try {
    return await work(new FileWindow(handle), (await handle.stat()).size);
  } finally {
    await handle.close();
  }
}

/** The file's header record. */
async function readHeader(window: FileWindow, file: string, size: number): Promise<CsvRecord | undefined> {
  let header: CsvRecord | undefined;
  await readRecords(window, file, { start: 0, end: size, line: 1 }, (records) => {
    header ??= records[0];
    return header === undefined;
  });
  return header;
}

/** One pass over a file with a symbol column: each symbol's runs of consecutive rows. */
async function indexSymbols(window: FileWindow, file: string, size: number, columns: Columns, headerStart: number): Promise<Map<string, RangeList>> {
  const runs = new Map<string, RangeList>();
  let current: { symbol: string; ranges: RangeList; end: number } | undefined;
  await readRecords(window, file, { start: 0, end: size, line: 1 }, (records) => {
    for (const record of records) {
      if (record.start === headerStart) continue;
      const symbol = (record.fields[columns.symbol!] ?? '').trim();
      if (symbol === '') throw new Error(`${file}: line ${record.line}: no symbol (every row of a file with a symbol column needs one)`);
      if (current?.symbol === symbol) continue;
      if (current) current.ranges[current.end] = record.start;
      let ranges = runs.get(symbol);
      if (!ranges) runs.set(symbol, (ranges = []));
      ranges.push(record.start, size, record.line);
      current = { symbol, ranges, end: ranges.length - 2 };
    }
  });
  return new Map([...runs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class CsvBarSource implements BarSource {
  private layoutRead: Promise<Map<string, SymbolRows>> | undefined;

  constructor(
    readonly path: string,
    private readonly options: BarSourceOptions,
  ) {}

  async symbols(): Promise<string[]> {
    const { symbol } = this.options;
    return symbol === undefined ? [...(await this.layout()).keys()] : [symbol];
  }

  async load(symbol: string): Promise<BarValidationResult> {
    const where = (await this.layout()).get(symbol);
    if (where === undefined) throw new Error(`${this.path}: no CSV for symbol ${JSON.stringify(symbol)}`);
    // Each row is validated as it is read: only the accepted bars stay in memory, not the file's text.
    const validator = new BarSeriesValidator(symbol, { strict: this.options.strict, today: wallClockToday() });
    await withFile(where.file, async (window, size) => {
      if (where.runs) {
        const { columns, ranges } = where.runs;
        for (const range of rangesOf(ranges)) await readRecords(window, where.file, range, (records) => records.forEach((r) => validator.add(rowOf(r, columns))));
        return;
      }
      let columns: Columns | undefined;
      await readRecords(window, where.file, { start: 0, end: size, line: 1 }, (records) => {
        for (const record of records) {
          if (columns) validator.add(rowOf(record, columns));
          else columns = columnsOf(where.file, record);
        }
      });
      if (!columns) throw emptyFile(where.file);
    });
    return validator.result();
  }

  /** Where each symbol's rows are, read once. */
  private layout(): Promise<Map<string, SymbolRows>> {
    this.layoutRead ??= this.readLayout();
    return this.layoutRead;
  }

  /** A folder: one symbol per `SYMBOL.csv`, in symbol order. A file: one symbol, or those of its symbol column. */
  private async readLayout(): Promise<Map<string, SymbolRows>> {
    if ((await stat(this.path)).isDirectory()) {
      const entries = await readdir(this.path, { withFileTypes: true });
      const files = entries
        .filter((entry) => entry.isFile() && CSV_EXTENSION.test(entry.name))
        .map((entry): [string, SymbolRows] => [entry.name.replace(CSV_EXTENSION, ''), { file: join(this.path, entry.name) }])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return new Map(files);
    }
    const file = this.path;
    return withFile(file, async (window, size) => {
      const header = await readHeader(window, file, size);
      // One symbol: its columns are checked when it is loaded, so a bad file fails that symbol, not the listing.
      if (!header?.fields.some((name) => name.trim().toLowerCase() === SYMBOL_COLUMN)) {
        return new Map([[this.options.symbol ?? basename(file).replace(CSV_EXTENSION, ''), { file }]]);
      }
      const columns = columnsOf(file, header);
      const runs = await indexSymbols(window, file, size, columns, header!.start);
      return new Map([...runs].map(([symbol, ranges]): [string, SymbolRows] => [symbol, { file, runs: { columns, ranges } }]));
    });
  }
}
