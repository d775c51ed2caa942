/**
 * The served predictions of a window of accuracy records beside the best naive baseline on the very same
 * sessions — what the low_accuracy alert and the decay rule compare with (not with a coin's 0.5).
 */
import { mcnemarExact } from '../skill/stats.js';

/** One scored prediction: whether the served direction was right, and whether each baseline's was (null: not kept). */
export interface ScoredHit {
  correct: boolean;
  baselines: Record<string, boolean> | null;
}

export interface BaselineComparison {
  n: number;
  hits: number;
  hit_rate: number;
  best_baseline: string;
  best_baseline_hits: number;
  best_baseline_hit_rate: number;
  /** Exact McNemar on the paired hits (two-sided). */
  mcnemar_p: number;
}

/** Null when any record of the window lacks its baselines (written before they were kept). */
export function compareWithBestBaseline(window: readonly ScoredHit[]): BaselineComparison | null {
  if (window.length === 0 || window.some((r) => !r.baselines)) return null;
  const names = Object.keys(window[0]!.baselines!);
  const hitsOf = (name: string) => window.filter((r) => r.baselines![name]).length;
  const best = names.reduce((a, b) => (hitsOf(b) > hitsOf(a) ? b : a));
  const hits = window.filter((r) => r.correct).length;
  return {
    n: window.length,
    hits,
    hit_rate: hits / window.length,
    best_baseline: best,
    best_baseline_hits: hitsOf(best),
    best_baseline_hit_rate: hitsOf(best) / window.length,
    mcnemar_p: mcnemarExact(window.map((r) => r.correct), window.map((r) => r.baselines![best]!)).p_value,
  };
}

/** Per baseline, whether its direction at the record's session matched what happened. */
export function baselineHits(baselines: Record<string, { direction: number }> | null, actualDirection: number): Record<string, boolean> | null {
  return baselines && Object.fromEntries(Object.entries(baselines).map(([name, f]) => [name, f.direction === actualDirection]));
}
