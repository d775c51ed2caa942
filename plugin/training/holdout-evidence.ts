/**
 * What the holdout shows about a candidate, beside the baselines on the same sessions: its skill table (on the
 * calibrated probabilities it would serve) and the skill gate's verdict — its discrimination judged on the larger
 * out-of-fold sample — the verdicts of the fallback tiers (ARIMA and the technical rules, each held to the same rule
 * against the other forecasters), the calibration before and after (ECE and reliability bins), and the realised
 * coverage of the conformal interval.
 */
import type { DailyBar } from '../bar.js';
import type { Samples } from '../features/windows.js';
import type { ModelPrediction } from '../model/lstm-model.js';
import { expectedCalibrationError, reliabilityBins, type ReliabilityBin } from '../skill/calibration-map.js';
import { conformalBounds, type ConformalBounds } from '../skill/conformal.js';
import { wilsonInterval, type Interval } from '../skill/stats.js';
import { barIndices, measureSkill } from '../skill/measure.js';
import { modelSkill, type ModelSkill } from '../skill/model-skill.js';
import { skillTable, skillVerdict, type ForecasterSkill, type SkillGateSettings, type SkillTable, type SkillVerdict } from '../skill/skill-table.js';
import { pick } from './fit.js';
import type { Split } from './splits.js';

export const FALLBACK_TIERS = ['arima', 'technical'] as const;
export type FallbackTier = (typeof FALLBACK_TIERS)[number];

export interface HoldoutEvidence {
  table: SkillTable;
  verdict: SkillVerdict;
  /** Each fallback tier's skill on the same sessions, judged by the same rule (ARIMA only when it was measured). */
  fallbacks: Partial<Record<FallbackTier, ModelSkill>>;
  calibration: { ece_raw: number; ece_calibrated: number; reliability_raw: ReliabilityBin[]; reliability_calibrated: ReliabilityBin[] };
  /**
   * The conformal interval at `coverage` from `n` out-of-fold scores (`lower`, `upper` in units of the volatility
   * scale), and how many of the holdout's `sessions` returns it held (with the Wilson interval of that share); null
   * without enough scores.
   */
  conformal: { coverage: number; lower: number; upper: number; n: number; sessions: number; covered: number; realised_coverage: number; interval: Interval } | null;
}

export async function holdoutEvidence(input: {
  bars: readonly DailyBar[];
  samples: Samples;
  split: Split;
  prediction: ModelPrediction;
  /** Out-of-fold conformal scores, and the volatility scale at each holdout session. */
  scores: readonly number[];
  scales: readonly number[];
  coverage: number;
  gate: SkillGateSettings;
  arima: boolean;
  /** The cross-validation's out-of-fold table: where each forecaster measured there shows its discrimination (ARIMA is not). */
  outOfFold?: SkillTable;
}): Promise<HoldoutEvidence> {
  const { samples, split, prediction } = input;
  const subject = {
    name: 'lstm',
    forecasts: prediction.probUp.map((p, k) => ({ prob_up: p, direction: prediction.direction[k]!, expected_return: prediction.magnitude[k]! })),
  };
  const measured = await measureSkill({
    sample: 'holdout',
    bars: input.bars,
    indices: barIndices(input.bars, pick(samples.asOf, split.test)),
    trainIndices: barIndices(input.bars, pick(samples.asOf, split.train)),
    subject,
    arima: input.arima,
  });
  const oof = input.outOfFold;
  const evidenceOf = (forecaster: ForecasterSkill | undefined) => (oof && forecaster ? { sample: oof.sample, skill: forecaster } : undefined);
  const fallbacks = Object.fromEntries(
    measured.baselines
      .filter((own) => (FALLBACK_TIERS as readonly string[]).includes(own.name))
      .map((own) => {
        const table = skillTable('holdout', own, measured.baselines.filter((b) => b !== own), measured.outcomes);
        const verdict = skillVerdict(table, input.gate, evidenceOf(oof?.baselines.find((b) => b.name === own.name)));
        return [own.name, modelSkill(table, verdict, null)];
      }),
  ) as HoldoutEvidence['fallbacks'];

  const actual = pick(samples.direction, split.test);
  const bounds = conformalBounds([...input.scores], input.coverage);
  const realised = pick(samples.magnitude, split.test);
  return {
    table: measured.table,
    verdict: skillVerdict(measured.table, input.gate, evidenceOf(oof?.subject)),
    fallbacks,
    calibration: {
      ece_raw: expectedCalibrationError(prediction.probUpRaw, actual),
      ece_calibrated: expectedCalibrationError(prediction.probUp, actual),
      reliability_raw: reliabilityBins(prediction.probUpRaw, actual),
      reliability_calibrated: reliabilityBins(prediction.probUp, actual),
    },
    conformal: bounds && coverageOf(bounds, realised, prediction.magnitude, input.scales),
  };
}

function coverageOf(bounds: ConformalBounds, realised: readonly number[], predicted: readonly number[], scales: readonly number[]): NonNullable<HoldoutEvidence['conformal']> {
  const covered = realised.filter((r, k) => r >= predicted[k]! + bounds.lower * scales[k]! && r <= predicted[k]! + bounds.upper * scales[k]!).length;
  return { ...bounds, sessions: realised.length, covered, realised_coverage: covered / realised.length, interval: wilsonInterval(covered, realised.length) };
}
