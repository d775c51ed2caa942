/**
 * lstm-long-short: lstm-swing's rules on both sides. A SELL or STRONG_SELL signal with confidence ≥
 * `minConfidence` opens a short at the next open (stop above, take-profit below, gaps mirrored), and a
 * confident signal against the position held reverses it: the position is closed ('signal') and the
 * opposite one opened at the same next open. An opposing signal below `minConfidence` only closes.
 */
import type { Signal } from '../plugin/index.js';
import type { PositionSide } from './position-book.js';
import { SignalStrategy, signalSide } from './signal-strategy.js';

export class LstmLongShort extends SignalStrategy {
  readonly name = 'lstm-long-short';

  protected decide(signal: Signal, held: PositionSide): PositionSide {
    const side = signalSide(signal);
    if (side === null || side === held) return held;
    return signal.confidence >= this.options.minConfidence ? side : 'flat';
  }
}
