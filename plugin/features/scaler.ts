/**
 * Per-feature standard scaling, z = (x − mean) / std, with the population std.
 *
 * The rule that keeps it from leaking: fit only on the frame rows the training windows cover, from the
 * first row of the earliest training window to the as-of row of the latest training sample; never on a
 * row after that session. `fitScalerForSamples` applies exactly that rule; the fitted parameters are then
 * used unchanged on validation, holdout and live windows, and stored with the model.
 */
import type { FeatureFrame, FeatureName } from './frame.js';
import { WindowSet, type Samples } from './windows.js';

/** Plain JSON: stored with every model version. */
export interface ScalerParams {
  featureNames: FeatureName[];
  mean: number[];
  /** Population standard deviation; 1 for a constant feature, which therefore scales to 0. */
  std: number[];
}

/** Mean and population std of each column of `rows` ([row][feature]). */
export function fitScaler(rows: readonly (readonly number[])[], featureNames: readonly FeatureName[]): ScalerParams {
  if (rows.length === 0) throw new Error('cannot fit a scaler on no rows');
  const n = rows.length;
  const mean: number[] = [];
  const std: number[] = [];
  featureNames.forEach((name, j) => {
    const column = rows.map((row, r) => {
      if (row.length !== featureNames.length) throw new Error(`row ${r} has ${row.length} values for ${featureNames.length} features`);
      if (!Number.isFinite(row[j])) throw new Error(`row ${r}: ${name} is ${row[j]}`);
      return row[j]!;
    });
    // A constant column is detected exactly: its computed mean may be off by a rounding error, which
    // a std of ~1e-17 would blow up.
    if (column.every((x) => x === column[0])) {
      mean.push(column[0]!);
      std.push(1);
      return;
    }
    const mu = column.reduce((sum, x) => sum + x, 0) / n;
    mean.push(mu);
    std.push(Math.sqrt(column.reduce((sum, x) => sum + (x - mu) ** 2, 0) / n));
  });
  return { featureNames: [...featureNames], mean, std };
}

/**
 * Fits on the rows `samples[trainSampleIndices]` cover: from the start of the earliest training window
 * to the as-of row of the latest one. `samples` must have been built from `frame`.
 */
export function fitScalerForSamples(frame: FeatureFrame, samples: Samples, trainSampleIndices: readonly number[]): ScalerParams {
  if (trainSampleIndices.length === 0) throw new Error('cannot fit a scaler without training samples');
  for (const i of trainSampleIndices) {
    if (!Number.isInteger(i) || i < 0 || i >= samples.endIndex.length) {
      throw new RangeError(`training sample ${i} outside 0..${samples.endIndex.length - 1}`);
    }
  }
  const first = Math.min(...trainSampleIndices);
  const last = Math.max(...trainSampleIndices);
  const end = samples.endIndex[last]!;
  if (frame.dates[end] !== samples.asOf[last]) {
    throw new Error(`samples were not built from this frame: sample ${last} ends on ${samples.asOf[last]}, frame row ${end} is ${frame.dates[end]}`);
  }
  return fitScaler(frame.rows.slice(samples.endIndex[first]! - samples.seqLen + 1, end + 1), frame.featureNames);
}

/** Scaled copy of `windows`; throws when `params` were fitted on other features or another order. */
export function scaleWindows(windows: WindowSet, params: ScalerParams): WindowSet {
  const fitted = params.mean.length === windows.nFeatures && params.std.length === windows.nFeatures;
  if (!fitted || params.featureNames.join() !== windows.featureNames.join()) {
    throw new Error(`scaler fitted on [${params.featureNames.join(', ')}], windows have [${windows.featureNames.join(', ')}]`);
  }
  const scaled = windows.rows.map((x, k) => {
    const j = k % windows.nFeatures;
    return (x - params.mean[j]!) / params.std[j]!;
  });
  return new WindowSet(windows.featureNames, windows.seqLen, scaled);
}
