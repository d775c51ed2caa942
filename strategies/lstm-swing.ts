/**
 * lstm-swing: long only, one position at a time, all the capital in.
 *
 * - Enter: a BUY or STRONG_BUY signal with confidence ≥ `minConfidence` while flat buys at the next
 *   session's open, with the signal's stop-loss and take-profit.
 * - Exit, checked on every bar held, the entry session's included (see `exit-rules.ts`): an open below
 *   the stop or above the take-profit fills at the open; else a low at or below the stop fills at the
 *   stop (also when the high reached the take-profit in the same bar: the conservative assumption);
 *   else a high at or above the take-profit fills at it; else after `maxHoldingSessions` sessions the
 *   position leaves at that close ('horizon').
 * - A SELL or STRONG_SELL signal (any confidence) while long sells at the next session's open ('signal').
 * - HOLD signals, and BUYs while already long, change nothing.
 * - Costs (see `holding.ts`): slippage on every fill, against the trader; commission on every fill's
 *   value. Defaults: minConfidence 3, commission 0.0005, slippage 0.0005, maxHoldingSessions 5,
 *   initialCapital 100000 (`DEFAULT_STRATEGY_OPTIONS`).
 */
import type { Signal } from '../plugin/index.js';
import type { PositionSide } from './position-book.js';
import { SignalStrategy, signalSide } from './signal-strategy.js';

export class LstmSwing extends SignalStrategy {
  readonly name = 'lstm-swing';

  protected decide(signal: Signal, held: PositionSide): PositionSide {
    const side = signalSide(signal);
    if (held === 'flat' && side === 'long' && signal.confidence >= this.options.minConfidence) return 'long';
    if (held === 'long' && side === 'short') return 'flat';
    return held;
  }
}
