/**
 * Daily bars from an existing `stock_daily`-style MySQL/MariaDB table: one row per symbol and session.
 * Table and column names are configurable; they go into SQL only as checked, escaped identifiers (`??`).
 */
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { validateBars, type BarValidationResult, type RawBarRow } from '../../plugin/index.js';
import { wallClockToday, type BarSource, type BarSourceOptions } from './source.js';
import { DEFAULT_STOCK_DAILY_COLUMNS, DEFAULT_STOCK_DAILY_TABLE, type StockDailyColumns } from './stock-daily-layout.js';

export { DEFAULT_STOCK_DAILY_COLUMNS, DEFAULT_STOCK_DAILY_TABLE, type StockDailyColumns };

export interface MysqlStockDailyOptions extends BarSourceOptions {
  /** `mysql://user:pass@host:port/db` */
  url: string;
  /** Default {@link DEFAULT_STOCK_DAILY_TABLE}. */
  table?: string;
  /** Column names; defaults `symbol`, `trade_date`, `open`, `high`, `low`, `close`, `volume`. */
  columns?: Partial<StockDailyColumns>;
}

/** Escaping already makes identifiers safe; the whitelist also turns a typo or an injection attempt into a clear error. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkIdentifier(option: string, value: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new Error(`MysqlStockDailySource: option ${option} ${JSON.stringify(value)} is not a plain identifier (letters, digits, _)`);
  }
  return value;
}

export class MysqlStockDailySource implements BarSource {
  private readonly pool: Pool;
  private readonly table: string;
  private readonly columns: StockDailyColumns;

  constructor(private readonly options: MysqlStockDailyOptions) {
    this.table = checkIdentifier('table', options.table ?? DEFAULT_STOCK_DAILY_TABLE);
    const columns = { ...DEFAULT_STOCK_DAILY_COLUMNS, ...options.columns };
    for (const [field, name] of Object.entries(columns)) checkIdentifier(`columns.${field}`, name);
    this.columns = columns;
    // dateStrings: a DATE must not become a JS Date at local midnight, which can land on the previous day.
    this.pool = createPool({ uri: options.url, dateStrings: true, connectionLimit: 2 });
  }

  async symbols(): Promise<string[]> {
    if (this.options.symbol !== undefined) return [this.options.symbol];
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT DISTINCT ?? AS `symbol` FROM ?? ORDER BY `symbol`', [
      this.columns.symbol,
      this.table,
    ]);
    return rows.map((row) => String(row.symbol));
  }

  async load(symbol: string): Promise<BarValidationResult> {
    const c = this.columns;
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT ?? AS `date`, ?? AS `open`, ?? AS `high`, ?? AS `low`, ?? AS `close`, ?? AS `volume` FROM ?? WHERE ?? = ? ORDER BY ??',
      [c.date, c.open, c.high, c.low, c.close, c.volume, this.table, c.symbol, symbol, c.date],
    );
    if (rows.length === 0) throw new Error(`no rows for symbol ${JSON.stringify(symbol)} in table ${this.table}`);
    const raw = rows.map(
      (row): RawBarRow => ({
        date: row.date === null ? '' : String(row.date),
        open: row.open,
        high: row.high,
        low: row.low,
        close: row.close,
        volume: row.volume,
      }),
    );
    return validateBars(symbol, raw, { strict: this.options.strict, today: wallClockToday() });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
