/**
 * The skill a forecaster has shown, as a model version stores it and a signal carries it: the holdout
 * numbers a trader needs beside a signal (hit rate with its interval and n, the best baseline's hit rate
 * on the same sessions, Brier skill against the base rate, IC) and the skill gate's verdict.
 */
import type { Interval } from './stats.js';
import { describeSkill, type ForecasterSkill, type SkillTable, type SkillVerdict } from './skill-table.js';

export interface ModelSkill {
  /** The version whose holdout this is; a fine-tuned version carries its parent's (null for a fallback tier). */
  measured_version_id: string | null;
  sample: string;
  from: string;
  to: string;
  n: number;
  hit_rate: number;
  hit_rate_interval: Interval;
  best_baseline: { name: string; hit_rate: number; hit_rate_interval: Interval };
  brier_skill: number | null;
  reference_base_rate: number;
  ic: number | null;
  /** Expected calibration error (10 bins) of the raw and the calibrated P(up) on these sessions; null for a source without a calibration. */
  ece: { raw: number; calibrated: number } | null;
  /** AUC of P(up) on these sessions with its block-bootstrap interval and one-sided p (null when every session went the same way). */
  discrimination: ForecasterSkill['discrimination'];
  /** The skill gate's verdict on these numbers. */
  passed: boolean;
  reason: string;
  /** One line for people. */
  summary: string;
}

export function modelSkill(table: SkillTable, verdict: SkillVerdict, measuredVersionId: string | null, ece: ModelSkill['ece'] = null): ModelSkill {
  const s = table.subject;
  return {
    measured_version_id: measuredVersionId,
    sample: table.sample,
    from: table.from,
    to: table.to,
    n: table.n,
    hit_rate: s.hit_rate,
    hit_rate_interval: s.hit_rate_interval,
    best_baseline: table.best_baseline,
    brier_skill: s.brier_skill,
    reference_base_rate: table.reference_base_rate,
    ic: s.ic,
    ece,
    discrimination: s.discrimination,
    passed: verdict.passed,
    reason: verdict.reason,
    summary: describeSkill(table),
  };
}
