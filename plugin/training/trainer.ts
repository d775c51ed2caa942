/**
 * The three training modes of the original system, on the symbol's bars:
 * - full: TimeSeriesSplit cross-validation (with a purge gap) over the parameter grid — every combination on every
 *   fold, or successive halving (`training.search`, search.ts) —, refit of the best parameters on everything but
 *   the holdout, then the holdout gate;
 * - fast: the same with 3 folds and one parameter set;
 * - incremental: fine-tune the current model on the most recent windows and make it current, no gate.
 * Every attempt leaves an `lstm_training_run` row, every failure an `lstm_training_failure` row, and a
 * failure never touches the current model. Making a version current and recording its run are one transaction.
 * A full or fast training's version is a `candidate` until then; one left by a training that died is discarded,
 * with a failure row, when the symbol's next training starts.
 */
import type { DailyBar } from '../bar.js';
import type { TrainingParams, TrainingSettings } from '../config.js';
import type { Logger } from '../host.js';
import { currentBackend, initBackend } from '../model/backend.js';
import { LstmModel, type ModelMetadata, type ModelPrediction } from '../model/lstm-model.js';
import { trainNetwork, type EpochInfo } from '../model/network.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { TrainingLog, type NewTrainingRun } from '../registry/training-log.js';
import type { TrainingRunRow } from '../store/entities.js';
import type { Store } from '../store/store.js';
import { LIVE_SET } from '../signals/prediction-log.js';
import { modelSkill } from '../skill/model-skill.js';
import { FORECAST_DAYS } from './constants.js';
import { decideWithSkill } from './deploy-rule.js';
import { fairComparison } from './fair-comparison.js';
import { buildDataset, fitModel, pick, trainingReference, type FitOptions, type Labels } from './fit.js';
import { holdoutEvidence, type HoldoutEvidence } from './holdout-evidence.js';
import { permutationImportance, type FeatureImportance } from './importance.js';
import { scoreIncumbent } from './incumbent.js';
import { evaluate, type HoldoutMetrics } from './metrics.js';
import { volatilityScales } from '../skill/volatility-scale.js';
import { outOfFoldEvidence, outOfFoldSkill, type OutOfFoldEvidence } from './out-of-fold.js';
import { searchGrid, type FoldUnit } from './search.js';
import { rankMatchedCalibration, type CalibrationMap } from '../skill/calibration-map.js';
import type { SkillTable } from '../skill/skill-table.js';
import { holdoutSplit, timeSeriesSplit } from './splits.js';

/** The conformal coverage measured on the holdout when the request does not name one (signals.level_coverage's default). */
const DEFAULT_LEVEL_COVERAGE = 0.8;

export type TrainingMode = 'full' | 'fast' | 'incremental';

export interface TrainingProgress {
  symbol: string;
  stage: 'cv' | 'refit' | 'incremental' | 'holdout';
  /** e.g. "params 2/8, fold 3/5". */
  step: string;
  epoch?: number;
  epochs?: number;
  loss?: number;
}

export interface TrainRequest {
  symbol: string;
  /** The symbol's bars up to the clock's now; `start`/`end` narrow them. */
  bars: readonly DailyBar[];
  mode: TrainingMode;
  /** What asked for it: manual, weekly, monthly, quarterly, performance_decay. */
  trigger: string;
  start?: string;
  end?: string;
  featureNames: readonly string[];
  settings: TrainingSettings;
  /** Where the symbol's served predictions are logged (default `live`): the current model's logged predictions are read there. */
  predictionSet?: string;
  /** Coverage of the conformal levels measured on the holdout (`signals.level_coverage`, default 0.8). */
  levelCoverage?: number;
  onProgress?: (progress: TrainingProgress) => void;
  /**
   * Called just before the outcome is committed (deployed or not, with its run record); throwing stops the training
   * there, unrecorded. A training worker uses it to stop once the queue process that runs its job is gone.
   */
  beforeCommit?: () => void | Promise<void>;
  /** Runs full mode's cross-validation units (default: here, one at a time); a queued training fans them out (FoldTasks). */
  foldUnit?: FoldUnit;
}

export type { CvResult } from './search.js';

/** What a full or fast training stores as `metrics_json.skill`: the evidence behind its deploy decision. */
export interface RunSkill {
  gate: { enabled: boolean; min_skill: number; alpha: number; passed: boolean; reason: string };
  holdout: SkillTable;
  out_of_fold: SkillTable;
  fallbacks: HoldoutEvidence['fallbacks'];
  calibration: Omit<OutOfFoldEvidence, 'calibration' | 'scores'> & HoldoutEvidence['calibration'] & { method: CalibrationMap['method']; out_of_fold_rows: number };
  conformal: HoldoutEvidence['conformal'];
  /** The current model on the holdout: which version, and on how many sessions it could be judged. */
  comparison: { version_id?: string; trained_through?: string; own?: number; logged?: number; excluded?: number; reason: string };
}

export interface TrainOutcome {
  run: TrainingRunRow;
  versionId: string;
  deployed: boolean;
  reason: string;
  holdout?: HoldoutMetrics;
  /** The previous current model on the same holdout, when there was one. */
  currentHoldout?: HoldoutMetrics;
  importance?: FeatureImportance[];
}

export class Trainer {
  private readonly registry: ModelRegistry;
  private readonly log: TrainingLog;

  constructor(
    private readonly store: Store,
    private readonly logger?: Logger,
  ) {
    this.registry = new ModelRegistry(store);
    this.log = new TrainingLog(store);
  }

  async train(request: TrainRequest): Promise<TrainOutcome> {
    const startedAt = Date.now();
    try {
      // Trainings of a symbol run one at a time (its lock), so every candidate already stored is a dead training's.
      const abandoned = await this.registry.discardAbandonedCandidates(request.symbol, 0);
      if (abandoned.length > 0) this.logger?.warn(`${request.symbol}: discarded ${abandoned.length} candidate(s) of a training that died`, { versions: abandoned });
      await initBackend({ logger: this.logger });
      const outcome = request.mode === 'incremental' ? await this.incremental(request, startedAt) : await this.fullOrFast(request, startedAt);
      this.logger?.info(`${request.symbol}: ${request.mode} training ${outcome.deployed ? 'deployed' : 'not deployed'} ${outcome.versionId}`, {
        reason: outcome.reason,
      });
      return outcome;
    } catch (error) {
      await this.log.recordFailure({ symbol: request.symbol, error, trainingType: request.mode, triggerType: request.trigger });
      this.logger?.error(`${request.symbol}: ${request.mode} training failed`, { error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  private async fullOrFast(request: TrainRequest, startedAt: number): Promise<TrainOutcome> {
    const { symbol, settings } = request;
    const data = buildDataset(request.symbol, request.bars, request.featureNames, request);
    const { samples } = data;
    const holdoutSize = Math.max(10, settings.holdout_sessions);
    const split = holdoutSplit(samples.labeled, holdoutSize, FORECAST_DAYS);
    const labels: Labels = samples;

    const grid = request.mode === 'fast' ? [settings.fast_params] : parameterGrid(settings);
    const nSplits = request.mode === 'fast' || split.train.length < settings.short_data_samples ? settings.cv_splits_short : settings.cv_splits;
    const folds = timeSeriesSplit(split.train.length, { nSplits, gap: FORECAST_DAYS });
    const searched = await searchGrid(
      { dataset: data, labels, folds, settings, trainingType: request.mode },
      grid,
      request.mode === 'full' ? settings.search : 'grid',
      { progress: (step) => (e) => this.progress(request, 'cv', step, e), ...(request.mode === 'full' && request.foldUnit && { unit: request.foldUnit }) },
    );
    const { cv, best, outOfFold: oof } = searched;
    // The volatility scale of each window's as-of session: conformal scores are measured in it.
    const scaleOf = new Map(volatilityScales(request.bars).map((scale, i) => [request.bars[i]!.date, scale]));
    const scalesAt = (indices: readonly number[]) => indices.map((i) => scaleOf.get(samples.asOf[i]!)!);
    const evidence = outOfFoldEvidence(oof, samples, settings.calibration, scalesAt(oof.indices));
    const outOfFoldTable = await outOfFoldSkill(oof, samples, request.bars);

    const trained = await fitModel(data, split.train, labels, this.fitOptions(request, best.params, 'refit', 'all but the holdout'));
    let blob: Buffer;
    try {
      Object.assign(trained.metadata, {
        calibration: evidence.calibration,
        conformalScores: evidence.scores,
        dissimilarity: trainingReference(data, split.train, trained.metadata.scaler),
      });
      blob = await trained.toBlob();
    } finally {
      trained.dispose();
    }
    const dataStart = samples.asOf[0]!;
    const dataEnd = samples.asOf[samples.asOf.length - 1]!;
    const version = await this.registry.save({
      symbol,
      trainingType: request.mode,
      trainingTime: new Date(),
      dataStart,
      dataEnd,
      metadata: { ...trained.metadata, cv } as unknown as Record<string, unknown>,
      blob,
    });

    // Judge the bytes that were stored, not the model still in memory.
    request.onProgress?.({ symbol, stage: 'holdout', step: `${split.test.length} holdout windows` });
    const candidate = await this.load(version.version_id);
    let holdout: HoldoutMetrics;
    let importance: FeatureImportance[] | undefined;
    let judged: HoldoutEvidence;
    let prediction: ModelPrediction;
    try {
      prediction = candidate.predict(samples, split.test);
      holdout = evaluate({
        actualDirection: pick(labels.direction, split.test),
        predictedDirection: prediction.direction,
        actualReturn: pick(labels.magnitude, split.test),
        predictedReturn: prediction.magnitude,
      });
      if (settings.importance_repeats > 0) {
        importance = permutationImportance({
          model: candidate,
          batch: candidate.batch(samples, split.test),
          actualDirection: pick(labels.direction, split.test),
          actualReturn: pick(labels.magnitude, split.test),
          repeats: settings.importance_repeats,
          seed: settings.seed,
        });
      }
      judged = await holdoutEvidence({
        bars: request.bars,
        samples,
        split,
        prediction,
        scores: evidence.scores,
        scales: scalesAt(split.test),
        coverage: request.levelCoverage ?? DEFAULT_LEVEL_COVERAGE,
        arima: settings.arima_baseline,
        gate: { minSkill: settings.min_skill, alpha: settings.skill_alpha },
        outOfFold: outOfFoldTable,
      });
    } finally {
      candidate.dispose();
    }
    const holdoutDates = pick(samples.asOf, split.test);
    const incumbent = await scoreIncumbent(this.store, {
      symbol,
      bars: request.bars,
      range: request,
      holdoutDates,
      predictionSet: request.predictionSet ?? LIVE_SET,
    });
    const comparison = fairComparison(incumbent.score, prediction, pick(labels.direction, split.test), pick(labels.magnitude, split.test), settings.gate_min_sessions);
    const decision = decideWithSkill({
      skill: settings.skill_gate ? judged.verdict : null,
      comparison: comparison.fair ?? null,
      noComparison: incumbent.score ? comparison.reason : incumbent.reason,
      thresholds: { minF1Improvement: settings.min_f1_improvement, minMseRatio: settings.min_mse_ratio },
    });

    const skill = modelSkill(judged.table, judged.verdict, version.version_id, { raw: judged.calibration.ece_raw, calibrated: judged.calibration.ece_calibrated });
    const runRecord: NewTrainingRun = {
      version_id: version.version_id,
      symbol,
      training_type: request.mode,
      trigger_type: request.trigger,
      data_start: dataStart,
      data_end: dataEnd,
      params_json: { ...best.params, batch_size: settings.batch_size, dropout: settings.dropout, seed: settings.seed, n_splits: nSplits, holdout_size: holdoutSize, feature_names: request.featureNames },
      metrics_json: {
        search: searched.search,
        cv,
        best_score: best.score,
        ...(searched.halving && { halving: searched.halving }),
        ...(importance && { importance }),
        ...(comparison.fair && { current_holdout: comparison.current }),
        skill: {
          gate: { enabled: settings.skill_gate, min_skill: settings.min_skill, alpha: settings.skill_alpha, ...judged.verdict },
          holdout: judged.table,
          out_of_fold: outOfFoldTable,
          fallbacks: judged.fallbacks,
          calibration: { method: evidence.calibration.method, out_of_fold_rows: oof.indices.length, ece_out_of_fold_raw: evidence.ece_out_of_fold_raw, ece_out_of_fold_calibrated_in_sample: evidence.ece_out_of_fold_calibrated_in_sample, ...judged.calibration },
          conformal: judged.conformal,
          comparison: { ...(incumbent.score && { version_id: incumbent.score.version_id, trained_through: incumbent.score.trained_through, own: incumbent.score.own, logged: incumbent.score.logged, excluded: incumbent.score.excluded }), reason: comparison.fair?.description ?? (incumbent.score ? comparison.reason : incumbent.reason) },
        } satisfies RunSkill,
        backend: currentBackend()?.name,
      },
      validation_deployed: decision.deploy,
      validation_reason: decision.reason,
      holdout_metrics_json: holdout as unknown as Record<string, unknown>,
      duration_seconds: (Date.now() - startedAt) / 1000,
    };
    // The deploy (or the candidate's removal) and its run record commit together: never a current model without its run.
    await request.beforeCommit?.();
    const run = await this.store.transaction(async (manager) => {
      if (decision.deploy) {
        await this.registry.updateMetadata(version.version_id, { ...version.metadata_json, skill }, manager);
        await this.registry.deploy(symbol, version.version_id, manager);
      } else {
        await this.registry.delete(version.version_id, manager);
      }
      return this.log.recordRun(runRecord, manager);
    });
    if (decision.deploy) await this.registry.prune(symbol, settings.max_versions);
    return {
      run,
      versionId: version.version_id,
      deployed: decision.deploy,
      reason: decision.reason,
      holdout,
      ...(comparison.fair && { currentHoldout: comparison.current }),
      ...(importance && { importance }),
    };
  }

  private async incremental(request: TrainRequest, startedAt: number): Promise<TrainOutcome> {
    const { symbol, settings } = request;
    const current = await this.registry.current(symbol);
    if (!current) throw new Error(`${symbol}: incremental training needs a current model to fine-tune; train in full or fast mode first`);
    const model = await this.load(current.version_id);
    try {
      const meta = model.metadata;
      const { samples } = buildDataset(request.symbol, request.bars, meta.featureNames, request);
      const take = Math.min(settings.incremental_sessions, samples.labeled);
      const recent = Array.from({ length: take }, (_, i) => samples.labeled - take + i);
      const parentRaw = model.predict(samples, recent).probUpRaw;
      const result = await trainNetwork(
        model.network,
        { x: model.batch(samples, recent), direction: pick(samples.direction, recent), returns: pick(samples.path, recent) },
        {
          epochs: settings.incremental_epochs,
          batchSize: settings.batch_size,
          seed: settings.seed,
          returnScale: meta.returnScale,
          onEpoch: (e) => this.progress(request, 'incremental', `last ${take} windows`, e),
        },
      );
      const metadata: ModelMetadata = {
        ...meta,
        ...(meta.calibration && { calibration: rankMatchedCalibration(meta.calibration, parentRaw, model.predict(samples, recent).probUpRaw) }),
        trainingType: 'incremental',
        backend: currentBackend()?.name ?? meta.backend,
        trainedThrough: samples.asOf[recent[recent.length - 1]!]!,
        epochsRun: result.epochsRun,
      };
      const blob = await model.toBlob();
      const reason = `incremental fine-tune of ${current.version_id} on the last ${take} windows: made current without the holdout gate`;
      // The version made current and its run record commit together: never a current model without its run.
      await request.beforeCommit?.();
      const { version, run } = await this.store.transaction(async (manager) => {
        const version = await this.registry.save(
          {
            symbol,
            trainingType: 'incremental',
            trainingTime: new Date(),
            dataStart: samples.asOf[recent[0]!]!,
            dataEnd: samples.asOf[samples.asOf.length - 1]!,
            metadata: { ...metadata, fine_tuned_from: current.version_id } as unknown as Record<string, unknown>,
            blob,
          },
          { makeCurrent: true, manager },
        );
        const run = await this.log.recordRun(
          {
            version_id: version.version_id,
            symbol,
            training_type: 'incremental',
            trigger_type: request.trigger,
            data_start: version.data_start,
            data_end: version.data_end,
            params_json: { ...meta.params, epochs: settings.incremental_epochs, batch_size: settings.batch_size, seed: settings.seed, fine_tuned_from: current.version_id },
            metrics_json: { history: result.history, backend: currentBackend()?.name },
            validation_deployed: true,
            validation_reason: reason,
            holdout_metrics_json: null,
            duration_seconds: (Date.now() - startedAt) / 1000,
          },
          manager,
        );
        return { version, run };
      });
      await this.registry.prune(symbol, settings.max_versions);
      return { run, versionId: version.version_id, deployed: true, reason };
    } finally {
      model.dispose();
    }
  }

  private async load(versionId: string): Promise<LstmModel> {
    const { version, blob } = await this.registry.loadBlob(versionId);
    return LstmModel.fromBlob(blob, version.metadata_json as unknown as ModelMetadata);
  }

  private fitOptions(request: TrainRequest, params: TrainingParams, stage: TrainingProgress['stage'], step: string): FitOptions {
    return { params, settings: request.settings, trainingType: request.mode, onEpoch: (e) => this.progress(request, stage, step, e) };
  }

  private progress(request: TrainRequest, stage: TrainingProgress['stage'], step: string, e: EpochInfo): void {
    request.onProgress?.({ symbol: request.symbol, stage, step, epoch: e.epoch, epochs: e.epochs, loss: e.loss });
  }
}

/** Every combination of the grid, in lr → hidden → epochs order. */
export function parameterGrid(settings: Pick<TrainingSettings, 'param_grid'>): TrainingParams[] {
  const { lr, hidden, epochs } = settings.param_grid;
  return lr.flatMap((l) => hidden.flatMap((h) => epochs.map((e) => ({ lr: l, hidden: h, epochs: e }))));
}

