/**
 * When an open position leaves the market during a session, and at what quoted price (before
 * slippage). Daily bars say where the price went, not in which order, so:
 * - the open comes first: a session opening beyond the stop or the take-profit fills at the open (a
 *   gap), not at the level it jumped over;
 * - otherwise, when the bar's range reaches the stop, the position is stopped at the stop — even if the
 *   range reached the take-profit too, because which came first is unknowable and the loss is the
 *   conservative assumption;
 * - otherwise, when the range reaches the take-profit, it is taken at the take-profit;
 * - otherwise, once the position has been held `maxHoldingSessions` sessions (this one included), it
 *   leaves at this session's close.
 * A long's stop is below and its take-profit above; a short's are mirrored.
 */
import type { DailyBar } from '../plugin/index.js';
import type { Side } from './holding.js';
import type { ExitReason } from './strategy.js';

export interface ExitPlan {
  side: Side;
  stop_loss: number;
  take_profit: number;
  /** Sessions held so far, counting the one being checked. */
  sessions_held: number;
}

export interface BarExit {
  reason: Exclude<ExitReason, 'signal' | 'end_of_data'>;
  price: number;
}

export function barExit(plan: ExitPlan, bar: DailyBar, maxHoldingSessions: number): BarExit | null {
  const long = plan.side === 'long';
  const pastStop = (price: number) => (long ? price <= plan.stop_loss : price >= plan.stop_loss);
  const pastTarget = (price: number) => (long ? price >= plan.take_profit : price <= plan.take_profit);
  if (pastStop(bar.open)) return { reason: 'stop_loss', price: bar.open };
  if (pastTarget(bar.open)) return { reason: 'take_profit', price: bar.open };
  if (pastStop(long ? bar.low : bar.high)) return { reason: 'stop_loss', price: plan.stop_loss };
  if (pastTarget(long ? bar.high : bar.low)) return { reason: 'take_profit', price: plan.take_profit };
  if (plan.sessions_held >= maxHoldingSessions) return { reason: 'horizon', price: bar.close };
  return null;
}
