/**
 * Permutation feature importance on the holdout: shuffle one feature's whole window across samples,
 * breaking its link to the labels, and measure how much the model's scores worsen. Model-agnostic, and
 * honest about a sequence model where SHAP has no maintained JS port.
 */
import type { LstmModel } from '../model/lstm-model.js';
import type { WindowBatch } from '../model/network.js';
import { mulberry32, permutation } from '../model/random.js';
import { evaluate, type HoldoutMetrics } from './metrics.js';

export interface FeatureImportance {
  feature: string;
  /** Baseline minus permuted: positive = the model relies on the feature. */
  accuracy_drop: number;
  f1_drop: number;
  /** Permuted minus baseline MSE: positive = the return forecast relies on the feature. */
  mse_increase: number;
}

export interface ImportanceInput {
  model: LstmModel;
  batch: WindowBatch;
  actualDirection: number[];
  actualReturn: number[];
  repeats: number;
  seed: number;
}

function score(model: LstmModel, batch: WindowBatch, actualDirection: number[], actualReturn: number[]): HoldoutMetrics {
  const p = model.predictBatch(batch);
  return evaluate({ actualDirection, predictedDirection: p.direction, actualReturn, predictedReturn: p.magnitude });
}

/** Features sorted by accuracy drop, largest first. */
export function permutationImportance(input: ImportanceInput): FeatureImportance[] {
  const { model, batch, actualDirection, actualReturn, repeats, seed } = input;
  const { n, seqLen, nFeatures, data } = batch;
  const baseline = score(model, batch, actualDirection, actualReturn);
  const random = mulberry32(seed);
  const result: FeatureImportance[] = [];
  for (let f = 0; f < nFeatures; f++) {
    let accuracy = 0;
    let f1 = 0;
    let mse = 0;
    for (let r = 0; r < repeats; r++) {
      const order = permutation(n, random);
      const shuffled = data.slice();
      for (let i = 0; i < n; i++) {
        for (let step = 0; step < seqLen; step++) {
          shuffled[(i * seqLen + step) * nFeatures + f] = data[(order[i]! * seqLen + step) * nFeatures + f]!;
        }
      }
      const m = score(model, { ...batch, data: shuffled }, actualDirection, actualReturn);
      accuracy += baseline.accuracy - m.accuracy;
      f1 += baseline.f1 - m.f1;
      mse += m.mse - baseline.mse;
    }
    result.push({ feature: model.metadata.featureNames[f]!, accuracy_drop: accuracy / repeats, f1_drop: f1 / repeats, mse_increase: mse / repeats });
  }
  return result.sort((a, b) => b.accuracy_drop - a.accuracy_drop || b.mse_increase - a.mse_increase);
}
