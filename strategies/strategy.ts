/**
 * What every example strategy shares: it listens to the host's bus — `host:bar` for fills and exits,
 * `lstm:signal` for decisions — and keeps explicit positions, fills, costs and exits.
 * Strategies import only the plugin's public types.
 */
import type { DailyBar, Disposer, EventBus, Signal } from '../plugin/index.js';

export interface StrategyOptions {
  /** Lowest signal confidence (1–5) that opens a position. */
  minConfidence: number;
  /** Commission per side, as a fraction of the traded value (0.0005 = 5 bp). */
  commission: number;
  /** Slippage per side, as a fraction of the fill price, always against the trader. */
  slippage: number;
  /** Sessions a position is held at most (the signal's horizon). */
  maxHoldingSessions: number;
  initialCapital: number;
}

export type ExitReason = 'stop_loss' | 'take_profit' | 'signal' | 'horizon' | 'end_of_data';

export interface Trade {
  symbol: string;
  side: 'long' | 'short';
  /** The signal that opened it. */
  signal_as_of: string;
  confidence: number;
  entry_date: string;
  entry_price: number;
  exit_date: string;
  exit_price: number;
  exit_reason: ExitReason;
  /** Net of commission and slippage, as a fraction of the capital committed. */
  return_pct: number;
  sessions_held: number;
}

export interface EquityPoint {
  date: string;
  equity: number;
  /** Whether a position was open at this close. */
  in_market: boolean;
}

export interface StrategyRun {
  strategy: string;
  symbol: string;
  options: StrategyOptions;
  trades: Trade[];
  equity: EquityPoint[];
}

export interface Strategy {
  readonly name: string;
  /** Subscribes to the bus; the disposer unsubscribes. */
  attach(bus: EventBus): Disposer;
  /** Closes any open position at the last bar's close and returns the run. */
  finish(lastBar: DailyBar): StrategyRun;
}

export type SignalEventPayload = { signal: Signal };
