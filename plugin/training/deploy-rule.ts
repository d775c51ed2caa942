/**
 * Whether a newly trained model may replace the current one, judged on the same holdout:
 * F1 up by at least `minF1Improvement`, or MSE at most `minMseRatio` × the current model's.
 * The first model of a symbol is always deployed.
 */
import type { HoldoutMetrics } from './metrics.js';

export interface DeployThresholds {
  minF1Improvement: number;
  minMseRatio: number;
}

export const DEFAULT_DEPLOY_THRESHOLDS: DeployThresholds = { minF1Improvement: 0.05, minMseRatio: 0.9 };

export interface DeployDecision {
  deploy: boolean;
  reason: string;
}

const fmt = (x: number) => Number(x.toPrecision(4)).toString();

export function decideDeployment(
  candidate: Pick<HoldoutMetrics, 'f1' | 'mse'>,
  current: Pick<HoldoutMetrics, 'f1' | 'mse'> | undefined,
  thresholds: DeployThresholds = DEFAULT_DEPLOY_THRESHOLDS,
): DeployDecision {
  if (!current) return { deploy: true, reason: 'first model for this symbol' };
  const f1Gain = candidate.f1 - current.f1;
  const mseLimit = current.mse * thresholds.minMseRatio;
  // A tiny epsilon so that a gain of exactly the threshold is not lost to floating-point subtraction.
  const f1Passes = f1Gain >= thresholds.minF1Improvement - 1e-12;
  const msePasses = candidate.mse <= mseLimit;
  const f1Text = `F1 ${fmt(candidate.f1)} vs ${fmt(current.f1)} (gain ${fmt(f1Gain)}, needs ≥ ${thresholds.minF1Improvement})`;
  const mseText = `MSE ${fmt(candidate.mse)} vs ${fmt(current.mse)} (needs ≤ ${fmt(mseLimit)} = ${thresholds.minMseRatio} × current)`;
  if (f1Passes && msePasses) return { deploy: true, reason: `both improved: ${f1Text}; ${mseText}` };
  if (f1Passes) return { deploy: true, reason: `F1 improved: ${f1Text}` };
  if (msePasses) return { deploy: true, reason: `MSE improved: ${mseText}` };
  return { deploy: false, reason: `not better than the current model: ${f1Text}; ${mseText}` };
}

/** The current model's and the candidate's metrics on the holdout sessions where the current model is out of sample. */
export interface FairComparison {
  candidate: Pick<HoldoutMetrics, 'f1' | 'mse'>;
  current: Pick<HoldoutMetrics, 'f1' | 'mse'>;
  /** Which sessions, e.g. "on 41 holdout sessions the current model has not trained on (30 its own forecasts, 11 logged)". */
  description: string;
}

/**
 * The whole deploy decision. With the skill gate on (`skill` given), a candidate without shown skill is
 * refused whatever else holds. Then the F1/MSE rule decides on the fair comparison; without one (a first
 * model, a current model that cannot be loaded or judged out of sample on enough sessions) the candidate is
 * deployed, and `noComparison` says why.
 */
export function decideWithSkill(input: {
  skill: { passed: boolean; reason: string } | null;
  comparison: FairComparison | null;
  noComparison: string;
  thresholds: DeployThresholds;
}): DeployDecision {
  const { skill, comparison } = input;
  if (skill && !skill.passed) return { deploy: false, reason: `skill gate: ${skill.reason}` };
  const skillReason = skill ? `; skill gate: ${skill.reason}` : '';
  if (!comparison) return { deploy: true, reason: `${input.noComparison}${skillReason}` };
  const decision = decideDeployment(comparison.candidate, comparison.current, input.thresholds);
  return { deploy: decision.deploy, reason: `${decision.reason}, ${comparison.description}${skillReason}` };
}
