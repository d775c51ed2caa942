/**
 * Evaluation metrics, by their textbook definitions:
 * - accuracy: share of direction predictions equal to the actual direction;
 * - f1: binary F1 of the "up" class, 2·TP / (2·TP + FP + FN), 0 when there are no positives at all
 *   (scikit-learn's `f1_score` with `zero_division=0`);
 * - mse, mae, rmse: of the predicted 5-session return against the realised one;
 * - direction_accuracy: share of sessions where the sign of the predicted return matches the realised
 *   direction, i.e. how often the regression head alone would have called the move right.
 */

export interface HoldoutMetrics {
  n: number;
  accuracy: number;
  f1: number;
  mse: number;
  mae: number;
  rmse: number;
  direction_accuracy: number;
}

export interface EvaluationInput {
  /** Actual direction, 1 = up. */
  actualDirection: ArrayLike<number>;
  /** Predicted direction, 1 = up. */
  predictedDirection: ArrayLike<number>;
  actualReturn: ArrayLike<number>;
  predictedReturn: ArrayLike<number>;
}

export function f1Score(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < actual.length; i++) {
    if (predicted[i] === 1 && actual[i] === 1) tp++;
    else if (predicted[i] === 1) fp++;
    else if (actual[i] === 1) fn++;
  }
  const denominator = 2 * tp + fp + fn;
  return denominator === 0 ? 0 : (2 * tp) / denominator;
}

export function evaluate(input: EvaluationInput): HoldoutMetrics {
  const n = input.actualDirection.length;
  if (n === 0) throw new RangeError('cannot evaluate on zero samples');
  for (const [name, values] of Object.entries(input)) {
    if ((values as ArrayLike<number>).length !== n) throw new RangeError(`${name} has ${(values as ArrayLike<number>).length} values, expected ${n}`);
  }
  let hits = 0;
  let signHits = 0;
  let squared = 0;
  let absolute = 0;
  for (let i = 0; i < n; i++) {
    if (input.predictedDirection[i] === input.actualDirection[i]) hits++;
    if ((input.predictedReturn[i]! > 0 ? 1 : 0) === input.actualDirection[i]) signHits++;
    const error = input.predictedReturn[i]! - input.actualReturn[i]!;
    squared += error * error;
    absolute += Math.abs(error);
  }
  const mse = squared / n;
  return {
    n,
    accuracy: hits / n,
    f1: f1Score(input.actualDirection, input.predictedDirection),
    mse,
    mae: absolute / n,
    rmse: Math.sqrt(mse),
    direction_accuracy: signHits / n,
  };
}

/** The cross-validation score of the original system: higher is better. */
export function cvScore(avgF1: number, avgMse: number): number {
  return avgF1 - 0.1 * Math.log1p(avgMse);
}
