/** The `--data` / `--mysql-url` options every command that reads bars shares, and the source they open. */
import { Option, type Command } from 'commander';
import { existingPath } from './options.js';
import type { BarSource } from '../bars/source.js';
import { DEFAULT_STOCK_DAILY_COLUMNS, DEFAULT_STOCK_DAILY_TABLE, type StockDailyColumns } from '../bars/stock-daily-layout.js';

export interface BarSourceCliOptions {
  data?: string;
  mysqlUrl?: string;
  table?: string;
  columns?: string;
  strict?: boolean;
}

/** `--columns symbol=code,date=trade_day` → column names, refusing fields the table does not have. */
function parseColumns(spec: string): Partial<StockDailyColumns> {
  const columns: Partial<StockDailyColumns> = {};
  for (const pair of spec.split(',')) {
    const [field, name, ...rest] = pair.split('=').map((part) => part.trim());
    if (!field || !name || rest.length > 0 || !(field in DEFAULT_STOCK_DAILY_COLUMNS)) {
      throw new Error(
        `--columns: expected field=column pairs with fields ${Object.keys(DEFAULT_STOCK_DAILY_COLUMNS).join(', ')}; got ${JSON.stringify(pair)}`,
      );
    }
    columns[field as keyof StockDailyColumns] = name;
  }
  return columns;
}

/** Adds the bar-source options; `defaultData` makes `--data` optional (the bundled data). */
export function addBarSourceOptions(command: Command, defaultData?: string): Command {
  const data = new Option('--data <path>', 'CSV file (one symbol) or folder of SYMBOL.csv files; columns date,open,high,low,close,volume')
    .argParser(existingPath('file or folder'))
    .conflicts(['mysqlUrl', 'columns']);
  return command
    .addOption(defaultData === undefined ? data : data.default(defaultData, 'the bundled S&P 500 data'))
    .addOption(new Option('--mysql-url <url>', 'read a stock_daily-style table instead: mysql://user:pass@host:port/db'))
    .addOption(new Option('--table <name>', 'table to read with --mysql-url').default(DEFAULT_STOCK_DAILY_TABLE))
    .addOption(
      new Option(
        '--columns <field=column,...>',
        'column names with --mysql-url where they differ from the defaults symbol, trade_date, open, high, low, close, ' +
          'volume; e.g. symbol=code,date=trade_day',
      ),
    )
    .option('--strict', 'reject a symbol entirely on any invalid row (default: drop bad rows, report them, keep the rest)');
}

/**
 * The source the options name; `symbol` restricts it to one symbol (and names a single CSV file's rows).
 * Loaded on demand: the sources load the plugin, which `--help` never needs.
 */
export async function openBarSource(options: BarSourceCliOptions, symbol?: string): Promise<BarSource> {
  const strict = Boolean(options.strict);
  if (options.mysqlUrl === undefined) {
    if (options.data === undefined) throw new Error('give either --data PATH or --mysql-url URL');
    const { CsvBarSource } = await import('../bars/csv.js');
    return new CsvBarSource(options.data, { strict, symbol });
  }
  const { MysqlStockDailySource } = await import('../bars/mysql-stock-daily.js');
  return new MysqlStockDailySource({
    url: options.mysqlUrl,
    table: options.table,
    columns: options.columns === undefined ? undefined : parseColumns(options.columns),
    strict,
    symbol,
  });
}
