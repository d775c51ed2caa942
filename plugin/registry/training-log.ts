/** The record of every training attempt: runs (deployed or not) and failures. */
import { In, MoreThan, type EntityManager } from 'typeorm';
import type { ModelSkill } from '../skill/model-skill.js';
import type { TrainingFailureRow, TrainingRunRow } from '../store/entities.js';
import type { Store } from '../store/store.js';

export type NewTrainingRun = Omit<TrainingRunRow, 'id' | 'created_at'>;

export class TrainingLog {
  constructor(private readonly store: Store) {}

  /** With `manager`, in the caller's transaction (a deploy and its run record are stored together). */
  async recordRun(run: NewTrainingRun, manager?: EntityManager): Promise<TrainingRunRow> {
    return (manager ? manager.getRepository(this.store.entities.trainingRun) : this.store.repos.trainingRun).save({ ...run });
  }

  /** With `manager`, in the caller's transaction. */
  async recordFailure(failure: { symbol: string; error: unknown; trainingType?: string; triggerType?: string }, manager?: EntityManager): Promise<TrainingFailureRow> {
    const message = failure.error instanceof Error ? failure.error.stack ?? failure.error.message : String(failure.error);
    return (manager ? manager.getRepository(this.store.entities.trainingFailure) : this.store.repos.trainingFailure).save({
      symbol: failure.symbol,
      training_type: failure.trainingType ?? null,
      trigger_type: failure.triggerType ?? null,
      error_message: message,
    });
  }

  /** Newest first. */
  runs(options: { symbol?: string; limit?: number } = {}): Promise<TrainingRunRow[]> {
    return this.store.repos.trainingRun.find({
      where: options.symbol ? { symbol: options.symbol } : {},
      order: { created_at: 'DESC', id: 'DESC' },
      take: options.limit ?? 50,
    });
  }

  /** A fallback tier's skill on the symbol's latest holdout (full and fast trainings measure it), if any run measured it. */
  async fallbackSkill(symbol: string, tier: string): Promise<ModelSkill | undefined> {
    const run = await this.store.repos.trainingRun.findOne({ where: { symbol, training_type: In(['full', 'fast']) }, order: { id: 'DESC' } });
    return (run?.metrics_json?.skill as { fallbacks?: Record<string, ModelSkill> } | undefined)?.fallbacks?.[tier];
  }

  /** Failures recorded after `since` (the current model's training time), or all of the symbol's when there is none. */
  countFailuresSince(symbol: string, since: Date | undefined): Promise<number> {
    return this.store.repos.trainingFailure.countBy(since ? { symbol, created_at: MoreThan(since) } : { symbol });
  }

  failures(symbol?: string): Promise<TrainingFailureRow[]> {
    return this.store.repos.trainingFailure.find({ where: symbol ? { symbol } : {}, order: { created_at: 'DESC', id: 'DESC' } });
  }
}
