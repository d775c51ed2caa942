/**
 * Time-ordered splits. `timeSeriesSplit` reproduces scikit-learn's `TimeSeriesSplit` (expanding
 * train window, equal test folds at the end, optional gap); the purge gap keeps a training label,
 * which looks `FORECAST_DAYS` sessions ahead, from reaching into the test fold.
 */

export interface Split {
  /** Sample indices, ascending. */
  train: number[];
  test: number[];
}

export interface TimeSeriesSplitOptions {
  nSplits: number;
  /** Samples dropped between the end of train and the start of test (scikit-learn's `gap`). */
  gap?: number;
  /** scikit-learn's `test_size`; default `floor(n / (nSplits + 1))`. */
  testSize?: number;
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

export function timeSeriesSplit(nSamples: number, options: TimeSeriesSplitOptions): Split[] {
  const { nSplits, gap = 0 } = options;
  if (!Number.isInteger(nSplits) || nSplits < 2) throw new RangeError(`nSplits must be an integer ≥ 2, got ${nSplits}`);
  const testSize = options.testSize ?? Math.floor(nSamples / (nSplits + 1));
  if (nSplits + 1 > nSamples) throw new RangeError(`cannot make ${nSplits} splits of ${nSamples} samples`);
  if (nSamples - gap - testSize * nSplits <= 0) {
    throw new RangeError(`too few samples (${nSamples}) for ${nSplits} splits of ${testSize} with gap ${gap}`);
  }
  const splits: Split[] = [];
  for (let testStart = nSamples - nSplits * testSize; testStart < nSamples; testStart += testSize) {
    splits.push({ train: range(0, testStart - gap), test: range(testStart, testStart + testSize) });
  }
  return splits;
}

/**
 * The final holdout: the last `holdoutSize` samples, and everything before them less a purge gap for
 * training. Throws when the data cannot give both a holdout and something to train on.
 */
export function holdoutSplit(nSamples: number, holdoutSize: number, gap: number): Split {
  const trainEnd = nSamples - holdoutSize - gap;
  if (holdoutSize < 1 || trainEnd < 1) throw new RangeError(`too few samples (${nSamples}) for a holdout of ${holdoutSize} with gap ${gap}`);
  return { train: range(0, trainEnd), test: range(nSamples - holdoutSize, nSamples) };
}
