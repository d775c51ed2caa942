/** One symbol's cash, open position, closed trades and equity curve: the bookkeeping every strategy shares. */
import type { DailyBar, Signal } from '../plugin/index.js';
import { Holding, type Side } from './holding.js';
import type { EquityPoint, ExitReason, StrategyOptions, Trade } from './strategy.js';

/** What a strategy holds, or wants to hold after the next open. */
export type PositionSide = Side | 'flat';

export interface OpenPosition {
  readonly holding: Holding;
  /** The signal that opened it: its stop-loss and take-profit are the position's. */
  readonly signal: Signal;
  readonly entry_date: string;
  /** The cash committed at entry: the base of the trade's return. */
  readonly capital: number;
  /**
   * Sessions whose bar the position has been checked against, the entry session included. An exit at a
   * session's open on a signal happens before that session counts.
   */
  sessions_held: number;
}

export class PositionBook {
  private cash: number;
  private open: OpenPosition | null = null;
  readonly trades: Trade[] = [];
  readonly equity: EquityPoint[] = [];

  constructor(
    private readonly symbol: string,
    private readonly options: StrategyOptions,
  ) {
    this.cash = options.initialCapital;
  }

  get position(): OpenPosition | null {
    return this.open;
  }

  get side(): PositionSide {
    return this.open?.holding.side ?? 'flat';
  }

  /** Opens `side` with all the cash at `bar`'s open. */
  enter(side: Side, signal: Signal, bar: DailyBar): void {
    if (this.open) throw new Error(`${this.symbol}: already ${this.open.holding.side} since ${this.open.entry_date}`);
    this.open = {
      holding: Holding.open(side, bar.open, this.cash, this.options),
      signal,
      entry_date: bar.date,
      capital: this.cash,
      sessions_held: 0,
    };
  }

  /** Closes the open position at the quoted `price` on `date`. */
  exit(date: string, price: number, reason: ExitReason): void {
    const position = this.open;
    if (!position) throw new Error(`${this.symbol}: no open position to exit on ${date}`);
    const { exit_price, cash } = position.holding.closeAt(price);
    this.trades.push({
      symbol: this.symbol,
      side: position.holding.side,
      signal_as_of: position.signal.as_of,
      confidence: position.signal.confidence,
      entry_date: position.entry_date,
      entry_price: position.holding.entry_price,
      exit_date: date,
      exit_price,
      exit_reason: reason,
      return_pct: cash / position.capital - 1,
      sessions_held: position.sessions_held,
    });
    this.cash = cash;
    this.open = null;
  }

  /**
   * Records the equity at a session's close: the cash, or the open position marked at `close`.
   * Marking the latest session again restates it (an exit at that close decided after the mark).
   */
  mark(date: string, close: number, in_market: boolean): void {
    const point = { date, equity: this.open ? this.open.holding.valueAt(close) : this.cash, in_market };
    if (this.equity.at(-1)?.date === date) this.equity[this.equity.length - 1] = point;
    else this.equity.push(point);
  }
}
