/**
 * Checks of a symbol's bars as a series, after each row has passed validation on its own: gaps, runs of zero
 * volume, split-like jumps. Pure. These bars are kept (each problem is a flag); only an unresolved split keeps
 * the symbol from being predicted.
 */
import type { BarProblem, DailyBar } from './bar.js';
import { findSplitJumps, type SplitJump, type SplitRules } from './bar-splits.js';
import { weekdaysBetween } from './calendar.js';

/** Field meanings and defaults: manifest.json, `bars`. */
export interface BarRules extends SplitRules {
  max_gap_sessions: number;
  max_zero_volume_sessions: number;
  adjust_splits: boolean;
}

export interface SeriesCheck {
  problems: BarProblem[];
  /** Split-like jumps into the checked bars (from the last bar before them, too). */
  splits: SplitJump[];
}

/** Consecutive zero-volume bars at the end of `bars`. */
function trailingZeroVolume(bars: readonly DailyBar[]): number {
  let run = 0;
  while (run < bars.length && bars[bars.length - 1 - run]!.volume === 0) run++;
  return run;
}

/**
 * Flags in `bars` (ascending, validated), continuing the series `before` (the stored bars just before them, ascending):
 * a gap of more than `max_gap_sessions` weekdays since the previous bar, the session on which zero volume has lasted
 * more than `max_zero_volume_sessions` sessions, and split-like jumps. `adjusted` says the split jumps will be
 * back-adjusted, and how many earlier bars that touches.
 */
export function checkSeries(
  symbol: string,
  before: readonly DailyBar[],
  bars: readonly DailyBar[],
  rules: BarRules,
  adjusted?: { earlierBars: number },
): SeriesCheck {
  const problems: BarProblem[] = [];
  const flag = (bar: DailyBar, field: BarProblem['field'], message: string) => problems.push({ symbol, date: bar.date, field, message, flag: true });
  let previous = before[before.length - 1];
  let zeroRun = trailingZeroVolume(before);

  const firstChecked = before.length > 0 ? before.length - 1 : 0;
  const splits = findSplitJumps([...before.slice(firstChecked), ...bars], rules);
  const splitOn = new Map(splits.map((s) => [s.date, s]));

  bars.forEach((bar, i) => {
    if (previous) {
      const gap = weekdaysBetween(previous.date, bar.date);
      if (gap > rules.max_gap_sessions) {
        flag(bar, 'date', `gap of ${gap} weekday session(s) since the previous bar (${previous.date}), more than bars.max_gap_sessions ${rules.max_gap_sessions}: kept`);
      }
    }
    zeroRun = bar.volume === 0 ? zeroRun + 1 : 0;
    if (zeroRun === rules.max_zero_volume_sessions + 1) {
      const start = i - zeroRun + 1;
      const since = start >= 0 ? bars[start]!.date : before[before.length + start]!.date;
      flag(bar, 'volume', `volume 0 for ${zeroRun} consecutive sessions since ${since}, more than bars.max_zero_volume_sessions ${rules.max_zero_volume_sessions}: kept`);
    }
    const split = splitOn.get(bar.date);
    if (split && previous) {
      const seen = `close ${previous.close} on ${previous.date} → ${bar.close} (×${split.observed.toFixed(4)}), volume ${previous.volume} → ${bar.volume}: looks like a ${split.ratio} split`;
      const outcome = adjusted
        ? `back-adjusted the ${adjusted.earlierBars + i} earlier bar(s): prices ÷${split.factor}, volume ×${split.factor}`
        : 'kept unadjusted; the symbol is not predicted until resolved (split-adjusted bars, or bars.adjust_splits)';
      flag(bar, 'close', `${seen}; ${outcome}`);
    }
    previous = bar;
  });
  return { problems, splits };
}
