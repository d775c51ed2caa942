/**
 * LSTM samples: a window of `seqLen` consecutive feature rows ending at session t, and labels from the
 * closes `horizon` sessions after t.
 */
import { FORECAST_DAYS, SEQ_LEN } from '../training/constants.js';
import type { FeatureFrame, FeatureName } from './frame.js';

/**
 * Every window of a frame, stored once: consecutive windows overlap in all but one row, so the set keeps
 * the frame's rows (row-major, float64) and window i is rows i .. i + seqLen − 1. For 5,000 sessions of
 * 15 features that is 600 kB, where nested arrays of every window would take some 40 MB. Float32 is
 * produced only for a tensor, by `tensorData`.
 */
export class WindowSet {
  /** Number of windows. */
  readonly length: number;
  readonly nFeatures: number;

  /** `rows` is [row][feature] flattened; it is shared, not copied, and must not be written to. */
  constructor(
    readonly featureNames: readonly FeatureName[],
    readonly seqLen: number,
    readonly rows: Float64Array,
  ) {
    this.nFeatures = featureNames.length;
    if (this.nFeatures === 0 || rows.length % this.nFeatures !== 0) {
      throw new Error(`${rows.length} values do not make rows of ${this.nFeatures} features`);
    }
    this.length = Math.max(0, rows.length / this.nFeatures - seqLen + 1);
  }

  /** Window i as [step][feature], step 0 the oldest session: a copy. */
  window(i: number): number[][] {
    this.checkIndex(i);
    return Array.from({ length: this.seqLen }, (_, step) => {
      const start = (i + step) * this.nFeatures;
      return Array.from(this.rows.subarray(start, start + this.nFeatures));
    });
  }

  /**
   * The windows `indices` (default all) as one Float32Array in [sample][step][feature] order, ready for
   * `tf.tensor3d(data, [indices.length, seqLen, nFeatures])`.
   */
  tensorData(indices: readonly number[] = Array.from({ length: this.length }, (_, i) => i)): Float32Array {
    const size = this.seqLen * this.nFeatures;
    const data = new Float32Array(indices.length * size);
    indices.forEach((i, k) => {
      this.checkIndex(i);
      data.set(this.rows.subarray(i * this.nFeatures, i * this.nFeatures + size), k * size);
    });
    return data;
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`window ${i} outside 0..${this.length - 1}`);
  }
}

/** The windows of `rows` ([row][feature]). */
function windowSetOf(rows: readonly (readonly number[])[], featureNames: readonly FeatureName[], seqLen: number): WindowSet {
  const flat = new Float64Array(rows.length * featureNames.length);
  rows.forEach((row, r) => {
    if (row.length !== featureNames.length) throw new Error(`row ${r} has ${row.length} values for ${featureNames.length} features`);
    flat.set(row, r * featureNames.length);
  });
  return new WindowSet(featureNames, seqLen, flat);
}

export interface Samples {
  seqLen: number;
  horizon: number;
  /** Session t each window ends on: the as-of date of its prediction. */
  asOf: string[];
  /** Frame row of t (window i ends on row i + seqLen − 1). */
  endIndex: number[];
  /** Unscaled windows, one per sample. */
  windows: WindowSet;
  /**
   * Samples 0..labeled−1 have labels; the last `horizon` samples (t + horizon not yet seen) have none.
   * They are the ones a live system predicts on.
   */
  labeled: number;
  /** 1 when close[t + horizon] > close[t], else 0. One per labeled sample, as are the next two. */
  direction: number[];
  /** close[t + horizon] / close[t] − 1. */
  magnitude: number[];
  /** close[t + k] / close[t] − 1 for k = 1..horizon; the last entry is the magnitude. */
  path: number[][];
}

export interface SampleOptions {
  seqLen?: number;
  horizon?: number;
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/** One sample for every session t with `seqLen` frame rows ending at t; labels where t + horizon exists. */
export function buildSamples(frame: FeatureFrame, options: SampleOptions = {}): Samples {
  const { seqLen = SEQ_LEN, horizon = FORECAST_DAYS } = options;
  checkPositiveInteger('seqLen', seqLen);
  checkPositiveInteger('horizon', horizon);
  const windows = windowSetOf(frame.rows, frame.featureNames, seqLen);
  const endIndex = Array.from({ length: windows.length }, (_, i) => i + seqLen - 1);
  const labeled = Math.max(0, windows.length - horizon);
  const path = endIndex.slice(0, labeled).map((t) =>
    Array.from({ length: horizon }, (_, k) => frame.close[t + k + 1]! / frame.close[t]! - 1),
  );
  const magnitude = path.map((steps) => steps[horizon - 1]!);
  return {
    seqLen,
    horizon,
    asOf: endIndex.map((t) => frame.dates[t]!),
    endIndex,
    windows,
    labeled,
    direction: endIndex.slice(0, labeled).map((t) => (frame.close[t + horizon]! > frame.close[t]! ? 1 : 0)),
    magnitude,
    path,
  };
}
