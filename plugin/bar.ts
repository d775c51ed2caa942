/** One symbol's daily bar. `date` is the session date, `YYYY-MM-DD`, in the exchange's calendar. */
export interface DailyBar {
  symbol: string;
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** The OHLCV fields a validation problem can name; `date` and `row` cover unparsable or misplaced rows. */
export type BarField = 'date' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'row';

/** One problem found in incoming bars: always names the symbol, the session date and the field. */
export interface BarProblem {
  symbol: string;
  /** The row's date as given (may be unparsable; then `field` is `date`). */
  date: string;
  field: BarField;
  message: string;
  /** 1-based line in the source file, when the bars came from a file. */
  line?: number;
  /**
   * Set when the bar was kept and the problem is a warning about the series (a gap, a run of zero volume, a
   * split-like jump); strict mode does not reject a batch for it. Absent: the row was refused.
   */
  flag?: true;
}
