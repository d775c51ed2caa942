/**
 * The F1/MSE comparison of a candidate with the current model, on the holdout sessions where the current
 * model could be judged out of sample (`scoreIncumbent`), both models on exactly those sessions.
 */
import type { ModelPrediction } from '../model/lstm-model.js';
import type { FairComparison } from './deploy-rule.js';
import { pick } from './fit.js';
import type { IncumbentScore } from './incumbent.js';
import { evaluate, type HoldoutMetrics } from './metrics.js';

/**
 * The comparison, or (with fewer than `minSessions` sessions) why there is none. `prediction` and the actuals are the
 * candidate's whole holdout, in the order the incumbent's positions refer to.
 */
export function fairComparison(
  score: IncumbentScore | undefined,
  prediction: ModelPrediction,
  actualDirection: readonly number[],
  actualReturn: readonly number[],
  minSessions: number,
): { fair?: FairComparison; current?: HoldoutMetrics; reason: string } {
  if (!score) return { reason: '' };
  const n = score.positions.length;
  const where = `on ${n} of ${actualDirection.length} holdout sessions the current model ${score.version_id} had not trained on (data through ${score.trained_through}): ${score.own} its own forecasts, ${score.logged} its logged predictions`;
  if (n < minSessions) {
    return { reason: `the current model cannot be judged fairly: ${where}, fewer than gate_min_sessions ${minSessions}; decided without comparison` };
  }
  const at = score.positions;
  const actual = { actualDirection: pick(actualDirection, at), actualReturn: pick(actualReturn, at) };
  const candidate = evaluate({ ...actual, predictedDirection: pick(prediction.direction, at), predictedReturn: pick(prediction.magnitude, at) });
  const current = evaluate({ ...actual, predictedDirection: score.direction, predictedReturn: score.magnitude });
  return { fair: { candidate, current, description: where }, current, reason: '' };
}
