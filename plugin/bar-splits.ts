/**
 * Split-like jumps in daily bars, and their back-adjustment. Pure. An unadjusted split reads as a one-session
 * crash (or, reversed, a rally): a model fed one predicts from a price level that no longer exists (a 10:1 split
 * gave a stop-loss of 0.00 and a +232% target), so the bar series check reports it and the predictor refuses
 * the symbol until it is resolved.
 */
import type { DailyBar } from './bar.js';

/** The rules of split detection; field meanings and defaults: manifest.json, `bars`. */
export interface SplitRules {
  split_jump_ratio: number;
  split_ratio_tolerance: number;
}

/** A one-session jump that looks like an unadjusted split. */
export interface SplitJump {
  /** The first session at the new price level. */
  date: string;
  previousDate: string;
  /** Old price over new price by the split's nominal ratio: 10 for a 10:1 split, 0.1 for 1:10, 1.5 for 3:2. */
  factor: number;
  /** The nominal ratio as written, e.g. `10:1`. */
  ratio: string;
  /** The session's close over the previous close, as observed. */
  observed: number;
}

interface SimpleRatio {
  factor: number;
  ratio: string;
}

/** The split ratios seen in practice, both ways: whole ones (2:1 .. 100:1) and the few fractional ones (3:2, 5:4, ...). */
const SIMPLE_RATIOS: readonly SimpleRatio[] = [
  ...[2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 40, 50, 100].map((n) => [n, 1]),
  [3, 2],
  [5, 2],
  [4, 3],
  [5, 4],
].flatMap(([n, d]) => [
  { factor: n! / d!, ratio: `${n}:${d}` },
  { factor: d! / n!, ratio: `${d}:${n}` },
]);

/** The simple ratio nearest `factor` (on a log scale), when within the relative `tolerance`. */
function nearestSimpleRatio(factor: number, tolerance: number): SimpleRatio | undefined {
  let best: SimpleRatio | undefined;
  for (const candidate of SIMPLE_RATIOS) {
    if (!best || Math.abs(Math.log(factor / candidate.factor)) < Math.abs(Math.log(factor / best.factor))) best = candidate;
  }
  return best && Math.abs(Math.log(factor / best.factor)) <= Math.log(1 + tolerance) ? best : undefined;
}

/**
 * The jump from `previous` to `bar` when it looks like a split: the close moved beyond the jump ratio either way,
 * old over new price is within the tolerance of a simple ratio, and volume moved the inverse way (a split
 * multiplies the share count by what it divides the price by).
 */
export function splitJump(previous: DailyBar, bar: DailyBar, rules: SplitRules): SplitJump | undefined {
  const observed = bar.close / previous.close;
  if (observed <= rules.split_jump_ratio && observed >= 1 / rules.split_jump_ratio) return undefined;
  const simple = nearestSimpleRatio(1 / observed, rules.split_ratio_tolerance);
  if (!simple) return undefined;
  const volumeInverse = simple.factor > 1 ? bar.volume > previous.volume : bar.volume < previous.volume;
  if (!volumeInverse) return undefined;
  return { date: bar.date, previousDate: previous.date, factor: simple.factor, ratio: simple.ratio, observed };
}

/** Every split-like jump between consecutive bars (ascending by date). */
export function findSplitJumps(bars: readonly DailyBar[], rules: SplitRules): SplitJump[] {
  const jumps: SplitJump[] = [];
  for (let i = 1; i < bars.length; i++) {
    const jump = splitJump(bars[i - 1]!, bars[i]!, rules);
    if (jump) jumps.push(jump);
  }
  return jumps;
}

/**
 * Back-adjusts bars dated before each split to the price level after it: prices divided and volume multiplied by
 * the split's nominal factor, cumulatively for several splits. Bars on or after the last split are returned as is.
 */
export function backAdjust(bars: readonly DailyBar[], splits: readonly SplitJump[]): DailyBar[] {
  return bars.map((bar) => {
    const factor = splits.filter((s) => bar.date < s.date).reduce((product, s) => product * s.factor, 1);
    if (factor === 1) return bar;
    const { open, high, low, close, volume } = bar;
    return { ...bar, open: open / factor, high: high / factor, low: low / factor, close: close / factor, volume: volume * factor };
  });
}

/** Why a symbol is not predicted while `jump` stands in its bars. */
export function unresolvedSplitReason(symbol: string, jump: SplitJump): string {
  return (
    `${symbol}: not predicted: split-like jump on ${jump.date} (close ×${jump.observed.toFixed(4)} from ${jump.previousDate}, ` +
    `a ${jump.ratio} split?) is unresolved: store split-adjusted bars, or set bars.adjust_splits to back-adjust them`
  );
}
