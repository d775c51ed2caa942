/**
 * Validation of incoming daily bars. Pure: the sources (CSV, MySQL, a host feed) read rows, this decides
 * which rows become bars and reports every problem with the symbol, date, field and line.
 */
import type { BarField, BarProblem, DailyBar } from './bar.js';
import { isSessionDate, weekendDayName } from './calendar.js';

/** A cell as a source read it: text from a file, a number or null from a database, undefined when absent. */
export type RawValue = string | number | null | undefined;

export interface RawBarRow {
  /** 1-based line in the source file. */
  line?: number;
  date: string;
  open: RawValue;
  high: RawValue;
  low: RawValue;
  close: RawValue;
  volume: RawValue;
}

export interface BarValidationResult {
  symbol: string;
  /** Number of rows read, accepted or not. */
  rows: number;
  /** The accepted rows, ascending by date; empty when `rejected`. */
  bars: DailyBar[];
  problems: BarProblem[];
  /** Strict mode found a problem, so no row was accepted. */
  rejected: boolean;
}

export interface BarValidationOptions {
  /** Reject the whole series on any problem instead of dropping the bad rows. */
  strict: boolean;
  /** Today on the clock of whoever validates (`YYYY-MM-DD`): a bar dated after it is refused. Omitted: no bound. */
  today?: string;
}

type PriceField = 'open' | 'high' | 'low' | 'close';
const PRICE_FIELDS: readonly PriceField[] = ['open', 'high', 'low', 'close'];

/**
 * Accepted date spellings, all normalised to `YYYY-MM-DD`: `YYYY-MM-DD`, `YYYY/MM/DD`, and either followed by
 * a time (`T` or space, optional seconds, fraction and zone: ISO timestamps, MySQL DATETIME). The date is
 * taken as written and the time and zone are dropped, not converted: a source that stamps a session
 * `2020-01-02T00:00:00-05:00` means the session of 2020-01-02, and shifting it to UTC would move it.
 */
const DATE_SPELLING = /^(\d{4})([-/])(\d{2})\2(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Plain decimal notation only: `Number()` would also take '', '0x1F' and ' ' as numbers. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function normaliseDate(raw: string): string | undefined {
  const m = DATE_SPELLING.exec(raw.trim());
  if (!m) return undefined;
  const date = `${m[1]}-${m[3]}-${m[4]}`;
  return isSessionDate(date) ? date : undefined;
}

/** The number in a cell, or the reason it is not one. */
function parseNumber(field: BarField, raw: RawValue): number | string {
  if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return `${field} is missing`;
  const value = typeof raw === 'number' ? raw : DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  if (Number.isNaN(value)) return `${field} ${typeof raw === 'string' ? JSON.stringify(raw) : raw} is not a number`;
  if (!Number.isFinite(value)) return `${field} ${raw} is not finite`;
  return value;
}

function problemAt(symbol: string, row: RawBarRow, field: BarField, message: string): BarProblem {
  return { symbol, date: row.date, field, message, ...(row.line !== undefined && { line: row.line }) };
}

/** Why a real calendar date cannot be a session: a weekend day, or a day after `today`. */
function dateProblem(date: string, today: string | undefined): string | undefined {
  const weekend = weekendDayName(date);
  if (weekend) return `${date} is a ${weekend}: not a trading session`;
  // A bar from the future is a feed error; stored, it would become the as-of session of every signal.
  if (today !== undefined && date > today) return `${date} is after today (${today}): a bar cannot come from the future`;
  return undefined;
}

/** Problems of one row taken alone, and its bar when it has none. */
function checkRow(symbol: string, row: RawBarRow, today: string | undefined): { bar?: DailyBar; problems: BarProblem[] } {
  const problems: BarProblem[] = [];
  const report = (field: BarField, message: string) => problems.push(problemAt(symbol, row, field, message));

  const date = normaliseDate(row.date);
  if (date === undefined) report('date', `unparsable date ${JSON.stringify(row.date)}: expected a calendar date YYYY-MM-DD`);
  const notASession = date === undefined ? undefined : dateProblem(date, today);
  if (notASession) report('date', notASession);

  const prices: Partial<Record<PriceField, number>> = {};
  for (const field of PRICE_FIELDS) {
    const value = parseNumber(field, row[field]);
    if (typeof value === 'string') report(field, value);
    else if (value <= 0) report(field, `${field} ${value} is not positive`);
    else prices[field] = value;
  }
  const { open, high, low, close } = prices;
  if (open !== undefined && high !== undefined && low !== undefined && close !== undefined) {
    if (high < low) {
      report('high', `high ${high} below low ${low}`);
    } else {
      if (open < low || open > high) report('open', `open ${open} outside [low ${low}, high ${high}]`);
      if (close < low || close > high) report('close', `close ${close} outside [low ${low}, high ${high}]`);
    }
  }

  const volume = parseNumber('volume', row.volume);
  if (typeof volume === 'string') report('volume', volume);
  else if (volume < 0) report('volume', `volume ${volume} is negative`);

  if (problems.length > 0 || date === undefined || open === undefined || high === undefined || low === undefined
    || close === undefined || typeof volume === 'string') {
    return { problems };
  }
  return { bar: { symbol, date, open, high, low, close, volume }, problems };
}

const at = (line: number | undefined) => (line === undefined ? '' : `, line ${line}`);

/**
 * Validates one symbol's rows in source order, one row at a time, so a source can stream a file through it and
 * keep only the accepted bars. Rows that are fine on their own must also continue the accepted series: a date
 * already accepted is a duplicate (the first is kept), an earlier one is out of order. Default mode drops the bad
 * rows; strict mode accepts nothing once any problem is found.
 */
export class BarSeriesValidator {
  private readonly bars: DailyBar[] = [];
  private readonly problems: BarProblem[] = [];
  private readonly acceptedLine = new Map<string, number | undefined>();
  private rows = 0;

  constructor(
    private readonly symbol: string,
    private readonly options: BarValidationOptions,
  ) {}

  add(row: RawBarRow): void {
    this.rows++;
    const { symbol, bars, problems, acceptedLine } = this;
    const { bar, problems: rowProblems } = checkRow(symbol, row, this.options.today);
    problems.push(...rowProblems);
    if (!bar) return;
    const previous = bars[bars.length - 1];
    const misplaced = acceptedLine.has(bar.date)
      ? `duplicate date ${bar.date}: kept the first (${bar.date}${at(acceptedLine.get(bar.date))})`
      : previous && bar.date < previous.date
        ? `out of order: dated before the previous accepted row (${previous.date}${at(acceptedLine.get(previous.date))})`
        : undefined;
    if (misplaced) {
      problems.push(problemAt(symbol, row, 'date', misplaced));
      return;
    }
    bars.push(bar);
    acceptedLine.set(bar.date, row.line);
  }

  result(): BarValidationResult {
    const rejected = this.options.strict && this.problems.length > 0;
    return { symbol: this.symbol, rows: this.rows, bars: rejected ? [] : this.bars, problems: this.problems, rejected };
  }
}

/** {@link BarSeriesValidator} over rows a caller already holds. */
export function validateBars(symbol: string, rows: readonly RawBarRow[], options: BarValidationOptions): BarValidationResult {
  const validator = new BarSeriesValidator(symbol, options);
  for (const row of rows) validator.add(row);
  return validator.result();
}

/** One line per problem, e.g. `SPX 2001-09-11 close: close 1200 outside [low 1210, high 1250] (line 432)`. */
export function formatBarProblem(p: BarProblem): string {
  const date = p.date.trim() === '' ? '(no date)' : p.date;
  return `${p.symbol} ${date} ${p.field}: ${p.message}${p.line === undefined ? '' : ` (line ${p.line})`}`;
}
