/**
 * One symbol's bars as grademark reads them: a data-forge DataFrame in forward date order, indexed by
 * the session's date, each row an `IBar` (`time`, open, high, low, close, volume) that also carries the
 * signals its rules need — the strategy's rules only ever see the current row.
 */
import { DataFrame, type IDataFrame } from 'data-forge';
import type { IBar } from 'grademark';
import type { DailyBar, Signal } from '../../plugin/index.js';

export interface SignalBar extends IBar {
  /** The session, `YYYY-MM-DD`; `time` is its UTC midnight. */
  date: string;
  /** The signal computed after this session's close: what the entry and exit rules decide on. */
  signal: Signal | undefined;
  /** The previous session's signal: the one an entry at this session's open acts on, with its levels. */
  previous_signal: Signal | undefined;
}

/**
 * `symbol`'s bars and signals, other symbols' ignored (as a strategy on a shared bus ignores them). When
 * a session has several signals the last counts, as the latest signal before an open does for
 * lstm-swing. Throws on bars out of order and on a signal dated on no bar, which would never be seen.
 */
export function signalBars(symbol: string, bars: readonly DailyBar[], signals: readonly Signal[]): SignalBar[] {
  const own = bars.filter((bar) => bar.symbol === symbol);
  own.forEach((bar, i) => {
    const before = own[i - 1];
    if (before && bar.date <= before.date) throw new Error(`${symbol}: bar ${bar.date} comes after ${before.date}; bars must be in date order`);
  });
  const sessions = new Set(own.map((bar) => bar.date));
  const bySession = new Map<string, Signal>();
  for (const signal of signals) {
    if (signal.symbol !== symbol) continue;
    if (!sessions.has(signal.as_of)) throw new Error(`signal as of ${signal.as_of} (${symbol}) matches no bar`);
    bySession.set(signal.as_of, signal);
  }
  return own.map(({ date, open, high, low, close, volume }, i) => ({
    time: new Date(`${date}T00:00:00Z`),
    open,
    high,
    low,
    close,
    volume,
    date,
    signal: bySession.get(date),
    previous_signal: i > 0 ? bySession.get(own[i - 1]!.date) : undefined,
  }));
}

/** The rows indexed by their `time`, as grademark's own examples index bars by date. */
export function signalFrame(rows: readonly SignalBar[]): IDataFrame<Date, SignalBar> {
  return new DataFrame({ values: rows, index: rows.map((row) => row.time) });
}
