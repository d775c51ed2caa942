/**
 * `lstm-signals/standalone`: the reference host (an in-process bus, bars from a source, a session clock you
 * advance) and the bar sources the CLI reads, for a platform that wants to run the plugin on its own.
 */
export { StandaloneHost, type StandaloneHostOptions } from './host.js';
export { BUNDLED_DATA } from './options.js';
export { CsvBarSource } from '../bars/csv.js';
export { MysqlStockDailySource, type MysqlStockDailyOptions } from '../bars/mysql-stock-daily.js';
export { DEFAULT_STOCK_DAILY_COLUMNS, DEFAULT_STOCK_DAILY_TABLE, type StockDailyColumns } from '../bars/stock-daily-layout.js';
export type { BarSource, BarSourceOptions } from '../bars/source.js';
