/**
 * Everything known about one symbol's skill, as `lstm-signals skill`, `GET /api/lstm/skill` and the panel show
 * it: what the latest full/fast training measured out of sample (out-of-fold and holdout tables beside the
 * baselines, the gate's verdict, the fallback tiers', calibration and conformal coverage), the current model's
 * stored skill, and what the prediction set has shown live since (served, per source, per model version, with
 * calibration and coverage), plus the realised hit rate per confidence level.
 */
import { In } from 'typeorm';
import { calibrationReport, type Calibration } from '../monitoring/calibration.js';
import { ModelRegistry } from '../registry/model-registry.js';
import type { Store } from '../store/store.js';
import type { RunSkill } from '../training/trainer.js';
import type { ModelSkill } from './model-skill.js';
import { liveSkill, type LiveSkillReport } from './live-skill.js';

export interface TrainingSkill {
  run_id: number;
  version_id: string | null;
  training_type: string;
  trigger_type: string;
  created_at: Date;
  deployed: boolean;
  reason: string | null;
  /** metrics_json.skill of the run. */
  skill: RunSkill;
}

export interface SkillReport {
  symbol: string;
  prediction_set: string;
  current_version_id: string | null;
  /** The current model's stored holdout skill and verdict (a fine-tuned version carries its parent's). */
  current: ModelSkill | null;
  /** The latest full or fast training of the symbol, deployed or not. */
  training: TrainingSkill | null;
  live: LiveSkillReport;
  /** Realised hit rate per confidence level and grade in the prediction set. */
  by_confidence: Calibration['by_confidence'];
  by_grade: Calibration['by_grade'];
}

export async function skillReport(store: Store, symbol: string, predictionSet: string): Promise<SkillReport> {
  const current = await new ModelRegistry(store).current(symbol);
  const run = await store.repos.trainingRun.findOne({ where: { symbol, training_type: In(['full', 'fast']) }, order: { id: 'DESC' } });
  const skill = run?.metrics_json?.skill as RunSkill | undefined;
  const { overall } = await calibrationReport(store, predictionSet, symbol);
  return {
    symbol,
    prediction_set: predictionSet,
    current_version_id: current?.version_id ?? null,
    current: (current?.metadata_json.skill as ModelSkill | undefined) ?? null,
    training:
      run && skill
        ? {
            run_id: run.id,
            version_id: run.version_id,
            training_type: run.training_type,
            trigger_type: run.trigger_type,
            created_at: run.created_at,
            deployed: run.validation_deployed,
            reason: run.validation_reason,
            skill,
          }
        : null,
    live: await liveSkill(store, symbol, predictionSet),
    by_confidence: overall.by_confidence,
    by_grade: overall.by_grade,
  };
}
