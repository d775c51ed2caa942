/**
 * Daily bars from CSV: one file (one symbol) or a folder holding `SYMBOL.csv` per symbol.
 * Columns date, open, high, low, close, volume, matched case-insensitively in any order; others are ignored.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { validateBars, type BarValidationResult, type RawBarRow } from '../../plugin/index.js';
import { wallClockToday, type BarSource, type BarSourceOptions } from './source.js';

const REQUIRED_COLUMNS = ['date', 'open', 'high', 'low', 'close', 'volume'] as const;
const CSV_EXTENSION = /\.csv$/i;

interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  fields: string[];
}

/**
 * RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks; LF, CRLF and CR end lines.
 * Written here rather than taken from a library so each record carries the line it starts on, which is
 * the line a user looks up in an editor.
 */
function parseCsv(file: string, text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let quoteLine = 0;

  const endRecord = () => {
    fields.push(field);
    // A blank line is one empty field: skip it rather than report a row with nothing in it.
    if (fields.length > 1 || fields[0]!.trim() !== '') records.push({ line: recordLine, fields });
    fields = [];
    field = '';
  };

  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\r' && text[i + 1] === '\n') continue; // the \n that follows ends the line
    const newline = c === '\n' || c === '\r';
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += newline ? '\n' : c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      quoteLine = line;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (newline) {
      endRecord();
      recordLine = line + 1;
    } else {
      field += c;
    }
    if (newline) line++;
  }
  if (quoted) throw new Error(`${file}: unterminated quoted field starting on line ${quoteLine}`);
  endRecord();
  return records;
}

/** Rows of one CSV text; errors name `file`. */
function readRows(file: string, text: string): RawBarRow[] {
  const [header, ...records] = parseCsv(file, text.replace(/^\uFEFF/, ''));
  if (!header) throw new Error(`${file}: empty file, expected a header line`);
  const names = header.fields.map((name) => name.trim().toLowerCase());
  const column = Object.fromEntries(
    REQUIRED_COLUMNS.map((required) => {
      const i = names.indexOf(required);
      if (i < 0) throw new Error(`${file}: missing required column "${required}" (header: ${header.fields.join(',')})`);
      if (names.indexOf(required, i + 1) >= 0) throw new Error(`${file}: column "${required}" appears twice`);
      return [required, i];
    }),
  ) as Record<(typeof REQUIRED_COLUMNS)[number], number>;

  return records.map(({ line, fields }) => ({
    line,
    date: fields[column.date] ?? '',
    open: fields[column.open],
    high: fields[column.high],
    low: fields[column.low],
    close: fields[column.close],
    volume: fields[column.volume],
  }));
}

export class CsvBarSource implements BarSource {
  constructor(
    readonly path: string,
    private readonly options: BarSourceOptions,
  ) {}

  async symbols(): Promise<string[]> {
    const { symbol } = this.options;
    return symbol === undefined ? [...(await this.files()).keys()] : [symbol];
  }

  async load(symbol: string): Promise<BarValidationResult> {
    const file = (await this.files()).get(symbol);
    if (file === undefined) throw new Error(`${this.path}: no CSV for symbol ${JSON.stringify(symbol)}`);
    const rows = readRows(file, await readFile(file, 'utf8'));
    return validateBars(symbol, rows, { strict: this.options.strict, today: wallClockToday() });
  }

  /** The files under `path`, by symbol, in symbol order. */
  private async files(): Promise<Map<string, string>> {
    if (!(await stat(this.path)).isDirectory()) {
      return new Map([[this.options.symbol ?? basename(this.path).replace(CSV_EXTENSION, ''), this.path]]);
    }
    const entries = await readdir(this.path, { withFileTypes: true });
    const files = entries
      .filter((entry) => entry.isFile() && CSV_EXTENSION.test(entry.name))
      .map((entry): [string, string] => [entry.name.replace(CSV_EXTENSION, ''), join(this.path, entry.name)])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return new Map(files);
  }
}
