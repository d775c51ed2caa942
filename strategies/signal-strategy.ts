/**
 * The mechanics every signal strategy shares; a strategy only decides what to hold after a signal.
 *
 * Per session of its symbol, in this order:
 * 1. the decision taken on the previous session's signal is filled at this session's open: an exit
 *    ('signal') and/or an entry with all the cash, carrying the signal's stop-loss and take-profit;
 * 2. an open position is checked against this session's bar (`barExit`: gaps, stop, take-profit,
 *    horizon);
 * 3. the equity is marked at the close.
 * A signal arrives after the close of its `as_of` session and is decided at once against the position
 * held then; the latest signal before an open is the one that counts. A signal whose `as_of` is not
 * before the session it would trade on is look-ahead, and throws. `finish` closes what is still open at
 * the last close ('end_of_data'); a decision still waiting for an open is dropped.
 */
import type { DailyBar, Disposer, EventBus, Signal } from '../plugin/index.js';
import { barExit } from './exit-rules.js';
import type { Side } from './holding.js';
import { PositionBook, type PositionSide } from './position-book.js';
import type { SignalEventPayload, Strategy, StrategyOptions, StrategyRun } from './strategy.js';

export const DEFAULT_STRATEGY_OPTIONS: Readonly<StrategyOptions> = {
  minConfidence: 3,
  commission: 0.0005,
  slippage: 0.0005,
  maxHoldingSessions: 5,
  initialCapital: 100_000,
};

/** The side a signal's grade points to; HOLD points nowhere. */
export function signalSide(signal: Signal): Side | null {
  if (signal.grade === 'BUY' || signal.grade === 'STRONG_BUY') return 'long';
  if (signal.grade === 'SELL' || signal.grade === 'STRONG_SELL') return 'short';
  return null;
}

export abstract class SignalStrategy implements Strategy {
  abstract readonly name: string;
  readonly options: StrategyOptions;
  private readonly book: PositionBook;
  private pending: { signal: Signal; target: PositionSide } | null = null;

  constructor(
    readonly symbol: string,
    options: Partial<StrategyOptions> = {},
  ) {
    this.options = { ...DEFAULT_STRATEGY_OPTIONS, ...options };
    const { initialCapital, commission, slippage, maxHoldingSessions } = this.options;
    if (!(initialCapital > 0) || !(commission >= 0) || !(slippage >= 0) || !(Number.isInteger(maxHoldingSessions) && maxHoldingSessions >= 1)) {
      throw new RangeError(`invalid strategy options: ${JSON.stringify(this.options)}`);
    }
    this.book = new PositionBook(symbol, this.options);
  }

  /** What to hold after the next session's open, given a signal for this symbol and what is held now. */
  protected abstract decide(signal: Signal, held: PositionSide): PositionSide;

  attach(bus: EventBus): Disposer {
    const onBar = ({ bar }: { bar: DailyBar }) => {
      if (bar.symbol === this.symbol) this.onBar(bar);
    };
    const onSignal = ({ signal }: SignalEventPayload) => {
      if (signal.symbol === this.symbol) this.pending = { signal, target: this.decide(signal, this.book.side) };
    };
    bus.on('host:bar', onBar);
    bus.on('lstm:signal', onSignal);
    return () => {
      bus.off('host:bar', onBar);
      bus.off('lstm:signal', onSignal);
    };
  }

  finish(lastBar: DailyBar): StrategyRun {
    const marked = this.book.equity.at(-1);
    if (marked && marked.date !== lastBar.date) {
      throw new Error(`${this.name} ${this.symbol}: finish() needs the last bar seen (${marked.date}), got ${lastBar.date}`);
    }
    if (this.book.position) {
      this.book.exit(lastBar.date, lastBar.close, 'end_of_data');
      this.book.mark(lastBar.date, lastBar.close, true);
    }
    this.pending = null;
    return {
      strategy: this.name,
      symbol: this.symbol,
      options: { ...this.options },
      trades: [...this.book.trades],
      equity: [...this.book.equity],
    };
  }

  private onBar(bar: DailyBar): void {
    const previous = this.book.equity.at(-1)?.date;
    if (previous !== undefined && bar.date <= previous) {
      throw new Error(`${this.name} ${this.symbol}: bar ${bar.date} arrived after ${previous}; bars must come in date order`);
    }
    if (this.pending) this.fillDecision(this.pending.signal, this.pending.target, bar);

    const position = this.book.position;
    let inMarket = false;
    if (position) {
      position.sessions_held += 1;
      const { stop_loss, take_profit } = position.signal;
      const plan = { side: position.holding.side, stop_loss, take_profit, sessions_held: position.sessions_held };
      const exit = barExit(plan, bar, this.options.maxHoldingSessions);
      if (exit) this.book.exit(bar.date, exit.price, exit.reason);
      // A horizon exit fills at this close, so the position was still open at it; a stop or target was not.
      inMarket = exit === null || exit.reason === 'horizon';
    }
    this.book.mark(bar.date, bar.close, inMarket);
  }

  private fillDecision(signal: Signal, target: PositionSide, bar: DailyBar): void {
    this.pending = null;
    if (signal.as_of >= bar.date) {
      throw new Error(`${this.name} ${this.symbol}: look-ahead — a signal as of ${signal.as_of} cannot trade at the ${bar.date} open`);
    }
    if (target === this.book.side) return;
    if (this.book.side !== 'flat') this.book.exit(bar.date, bar.open, 'signal');
    if (target !== 'flat') this.book.enter(target, signal, bar);
  }
}
