/** The default layout of a `stock_daily` table, apart from the source that reads it (which loads mysql2). */
export interface StockDailyColumns {
  symbol: string;
  date: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

export const DEFAULT_STOCK_DAILY_TABLE = 'stock_daily';

export const DEFAULT_STOCK_DAILY_COLUMNS: Readonly<StockDailyColumns> = {
  symbol: 'symbol',
  date: 'trade_date',
  open: 'open',
  high: 'high',
  low: 'low',
  close: 'close',
  volume: 'volume',
};
