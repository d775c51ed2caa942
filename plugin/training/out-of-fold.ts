/**
 * The cross-validation's out-of-fold predictions of the chosen parameters: each fold's test windows, predicted
 * by the model trained on the windows before them. They are the only rows the probability calibration and the
 * conformal residuals are fitted on — never the holdout, which stays the untouched judge of the deploy
 * decision — and they give a first, larger out-of-sample skill table.
 */
import type { DailyBar } from '../bar.js';
import type { Samples } from '../features/windows.js';
import type { ModelPrediction } from '../model/lstm-model.js';
import { baselineForecasts, fitBaselines, type BaselineSeries } from '../skill/baselines.js';
import { applyCalibration, expectedCalibrationError, fitCalibration, type CalibrationMap, type CalibrationMethod } from '../skill/calibration-map.js';
import { barIndices, outcomesAt } from '../skill/measure.js';
import { skillTable, type SkillTable } from '../skill/skill-table.js';
import { pick } from './fit.js';
import type { Split } from './splits.js';

export interface OutOfFold {
  folds: Split[];
  /** Sample indices of every fold's test windows, in order, and the fold model's predictions of them. */
  indices: number[];
  probUp: number[];
  magnitude: number[];
}

export function emptyOutOfFold(): OutOfFold {
  return { folds: [], indices: [], probUp: [], magnitude: [] };
}

/** Adds a fold's test predictions (made by a fold model, which has no calibration: these are raw). */
export function addFold(oof: OutOfFold, fold: Split, prediction: Pick<ModelPrediction, 'probUpRaw' | 'magnitude'>): void {
  oof.folds.push(fold);
  oof.indices.push(...fold.test);
  oof.probUp.push(...prediction.probUpRaw);
  oof.magnitude.push(...prediction.magnitude);
}

export interface OutOfFoldEvidence {
  calibration: CalibrationMap;
  /** Conformal scores: (actual − predicted horizon return) / the as-of session's volatility scale, ascending. */
  scores: number[];
  /** ECE (10 bins) of the raw probabilities, and of the calibrated ones on the same rows (in-sample for the map). */
  ece_out_of_fold_raw: number;
  ece_out_of_fold_calibrated_in_sample: number;
}

/** `scales`: the volatility scale of each out-of-fold window's as-of session (skill/volatility-scale.ts). */
export function outOfFoldEvidence(oof: OutOfFold, samples: Samples, method: CalibrationMethod, scales: readonly number[]): OutOfFoldEvidence {
  const actual = pick(samples.direction, oof.indices);
  const calibration = fitCalibration(method, oof.probUp, actual);
  const realised = pick(samples.magnitude, oof.indices);
  return {
    calibration,
    scores: realised
      .map((r, k) => (r - oof.magnitude[k]!) / scales[k]!)
      .filter(Number.isFinite)
      .sort((a, b) => a - b),
    ece_out_of_fold_raw: expectedCalibrationError(oof.probUp, actual),
    ece_out_of_fold_calibrated_in_sample: expectedCalibrationError(oof.probUp.map((p) => applyCalibration(calibration, p)), actual),
  };
}

/**
 * The raw out-of-fold forecasts beside the baselines on the same windows, each fold's baselines fitted on that
 * fold's training windows only. ARIMA is left out: a fit costs ~0.1 s, and there are thousands of rows.
 */
export async function outOfFoldSkill(oof: OutOfFold, samples: Samples, bars: readonly DailyBar[]): Promise<SkillTable> {
  const closes = bars.map((b) => b.close);
  const baselines = new Map<string, BaselineSeries>();
  for (const fold of oof.folds) {
    const fit = fitBaselines(closes, barIndices(bars, pick(samples.asOf, fold.train)));
    for (const series of await baselineForecasts(bars, barIndices(bars, pick(samples.asOf, fold.test)), fit, { arima: false })) {
      const merged = baselines.get(series.name);
      baselines.set(series.name, merged ? { ...merged, forecasts: [...merged.forecasts, ...series.forecasts], answered: merged.answered + series.answered } : series);
    }
  }
  const subject = {
    name: 'lstm (raw)',
    forecasts: oof.probUp.map((p, k) => ({ prob_up: p, direction: p > 0.5 ? 1 : 0, expected_return: oof.magnitude[k]! })),
  };
  return skillTable('out_of_fold', subject, [...baselines.values()], outcomesAt(bars, barIndices(bars, pick(samples.asOf, oof.indices))));
}
