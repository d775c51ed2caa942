/**
 * lstm-swing's rules as a grademark strategy (long only). Grademark runs them with its own
 * conventions (see `grademark-backtest.ts` for where they part from lstm-swing's):
 * - `entryRule` sees each session while flat; calling `enterPosition` fills at the next session's open;
 * - on entering, `stopLoss` and `profitTarget` return distances from that fill, so the entering
 *   signal's levels are given back as `entry − stop_loss` and `take_profit − entry` (both exact in
 *   floating point while the level is within a factor of two of the entry);
 * - from the session after the entry on, grademark stops out when the low reaches the stop, else takes
 *   profit when the high reaches the target, each filled at the level; else it calls `exitRule`, whose
 *   `exitPosition` fills at the next session's open.
 */
import type { IStrategy } from 'grademark';
import { signalSide, type ExitReason, type StrategyOptions } from '../../strategies/index.js';
import type { SignalBar } from './signal-frame.js';

/** Why `exitRule` asked to leave, by the position's entry time (ms): grademark only reports "exit-rule". */
export type RuleExits = Map<number, Extract<ExitReason, 'signal' | 'horizon'>>;

/** Indexed by session date, with no optimisable parameters. */
export type SwingStrategy = IStrategy<SignalBar, SignalBar, Record<string, never>, Date>;

export function swingStrategy(options: StrategyOptions, ruleExits: RuleExits): SwingStrategy {
  return {
    entryRule(enterPosition, { bar }) {
      if (bar.signal && signalSide(bar.signal) === 'long' && bar.signal.confidence >= options.minConfidence) enterPosition();
    },
    stopLoss: ({ entryPrice, bar }) => entryPrice - enteringSignal(bar).stop_loss,
    profitTarget: ({ entryPrice, bar }) => enteringSignal(bar).take_profit - entryPrice,
    exitRule(exitPosition, { bar, position }) {
      // holdingPeriod counts the sessions after the entry session; lstm-swing counts the entry session too.
      // The horizon wins over a SELL of the same session, as lstm-swing's exit at that close does.
      const reason =
        position.holdingPeriod + 1 >= options.maxHoldingSessions ? 'horizon' : bar.signal && signalSide(bar.signal) === 'short' ? 'signal' : null;
      if (reason) {
        ruleExits.set(position.entryTime.getTime(), reason);
        exitPosition();
      }
    },
  };
}

function enteringSignal(bar: SignalBar) {
  if (!bar.previous_signal) throw new Error(`grademark entered at ${bar.date} without a signal the session before`);
  return bar.previous_signal;
}
