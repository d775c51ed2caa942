/**
 * The plugin's tables. Names and columns follow the original system; rows use the column names as
 * property names so the JSON the API returns reads like the original's.
 * EntitySchema rather than decorators: the same definitions work under tsc, tsx and vitest, none of
 * which need emitted decorator metadata.
 */
import { EntitySchema } from 'typeorm';
import type { DailyBar } from '../bar.js';
import type { PointForecast } from '../skill/baselines.js';
import { columnTypes, jsonTransformer, type Dialect } from './dialect.js';

/** A stored bar is exactly a validated daily bar. */
export type BarRow = DailyBar;

/**
 * `candidate` from its save until its training records the holdout decision (with the run row, in one transaction):
 * then `deployed`. A refused candidate is deleted in that transaction; `rejected` marks versions stored before the
 * status existed that were never deployed. A candidate left behind is a training that died: it never becomes current.
 */
export type ModelVersionStatus = 'candidate' | 'deployed' | 'rejected';

export interface ModelVersionRow {
  version_id: string;
  symbol: string;
  training_type: string;
  training_time: Date;
  data_start: string;
  data_end: string;
  metadata_json: Record<string, unknown>;
  /** Not selected by default: listing versions must not pull megabytes of weights. */
  model_blob?: Buffer;
  blob_bytes: number;
  /** SHA-256 of `model_blob`, hex. */
  checksum: string;
  status: ModelVersionStatus;
  created_at: Date;
}

export interface CurrentVersionRow {
  symbol: string;
  version_id: string;
  updated_at: Date;
}

export interface TrainingRunRow {
  id: number;
  version_id: string | null;
  symbol: string;
  training_type: string;
  trigger_type: string;
  data_start: string | null;
  data_end: string | null;
  params_json: Record<string, unknown> | null;
  metrics_json: Record<string, unknown> | null;
  validation_deployed: boolean;
  validation_reason: string | null;
  holdout_metrics_json: Record<string, unknown> | null;
  duration_seconds: number;
  created_at: Date;
}

export interface PredictionLogRow {
  id: number;
  /** `live` for production predictions; a backtest writes under its own named set. */
  prediction_set: string;
  symbol: string;
  predict_date: string;
  /** 1 = up, 0 = down. */
  direction: number;
  magnitude: number;
  prob_up: number;
  /** The model version that answered; '' when the source has no versioned model (ARIMA, technical rules). */
  model_version_id: string;
  source: string;
  signal_json: Record<string, unknown> | null;
  created_at: Date;
}

export interface AccuracyRecordRow {
  id: number;
  prediction_id: number;
  prediction_set: string;
  symbol: string;
  predict_date: string;
  actual_date: string;
  predicted_direction: number;
  actual_direction: number;
  predicted_magnitude: number;
  actual_magnitude: number;
  error_magnitude: number;
  direction_correct: boolean;
  model_version_id: string;
  source: string;
  /** What each naive baseline said at predict_date (from the bars up to it); null on records written before baselines were kept. */
  baselines_json: BaselineForecasts | null;
  /** Whether the close at actual_date lay between the signal's conformal levels; null when its levels had no stated coverage. */
  levels_covered: boolean | null;
  created_at: Date;
}

/** Per baseline, its forecast at the session; ARIMA's says whether ARIMA answered or the majority stood in. */
export type BaselineForecasts = Record<string, PointForecast & { answered?: boolean }>;

export interface TrainingFailureRow {
  id: number;
  symbol: string;
  training_type: string | null;
  trigger_type: string | null;
  error_message: string;
  created_at: Date;
}

/**
 * `pending`: not delivered yet, next try at `next_attempt_at`; `suppressed`: the same dedupe key was delivered within the
 * cool-down, so this one was stored and not sent; `expired`: still undelivered at `alerts.max_age_hours` (an
 * `alert_expired` alert says so); `failed`: written only by versions up to 0.2.0, which gave up after a few retries.
 */
export type AlertDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'expired' | 'no_webhook' | 'suppressed';

export interface AlertRow {
  id: number;
  alert_type: string;
  symbol: string | null;
  severity: string;
  message: string;
  details_json: Record<string, unknown> | null;
  /** Same key = same alert: used for the re-send cool-down. */
  dedupe_key: string;
  delivery_status: AlertDeliveryStatus;
  delivery_attempts: number;
  last_error: string | null;
  delivered_at: Date | null;
  /** When a pending alert is tried next (real time; a process trying it holds it by moving this past its attempt). */
  next_attempt_at: Date | null;
  /** On the host's clock (simulated in a backtest), like delivered_at: the cool-down and max_age count from it. */
  created_at: Date;
}

export interface TrainingLockRow {
  symbol: string;
  /** Who holds it: host, process and job, so a stuck lock can be traced. */
  owner: string;
  acquired_at: Date;
  /** A holder that died leaves the lock to expire; another process may then take it. */
  expires_at: Date;
}

export type TrainingJobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface TrainingJobRow {
  id: number;
  symbol: string;
  training_type: string;
  trigger_type: string;
  /** The session that asked for it (bar calendar); null for manual jobs. */
  session: string | null;
  status: TrainingJobStatus;
  error: string | null;
  run_id: number | null;
  version_id: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  /** The request's range of the symbol's stored bars (null = from the first / to the last). */
  data_start: string | null;
  data_end: string | null;
  /** Which process runs it: `host:pid:start` (start = the process's start time), null while queued. */
  worker: string | null;
  /** Until when the running worker's claim holds; the worker renews it. An expired lease means the worker is gone. */
  lease_expires_at: Date | null;
  /** How many times a worker has started it. */
  attempts: number;
  /** symbol|mode|session while queued or running, null once finished: the database keeps one such job at a time. */
  active_key: string | null;
  /** The latest progress the worker reported. */
  progress_json: Record<string, unknown> | null;
}

export interface PerformanceCheckRow {
  id: number;
  symbol: string;
  triggered: boolean;
  recent_avg_error: number | null;
  historical_avg_error: number | null;
  threshold: number | null;
  multiplier: number;
  n_recent_samples: number;
  n_historical_samples: number;
  detected_at: Date;
}

export interface TriggerDecisionRow {
  id: number;
  symbol: string;
  session: string;
  /** The trigger that won, or null when none fired (or training was already done this session). */
  trigger_type: string | null;
  training_type: string | null;
  reason: string;
  /** Every trigger that fired this session, in priority order. */
  candidates_json: string[];
  job_id: number | null;
  created_at: Date;
}

/**
 * One followed symbol's processing of one closed session under a prediction set: `started` when it begins, `done`
 * when prediction, backfill, trigger and alerts are all stored. A session that is not `done` (a crash, the database
 * down) is processed again at a later session close.
 */
export interface SessionRunRow {
  id: number;
  prediction_set: string;
  symbol: string;
  session: string;
  status: 'started' | 'done' | 'failed';
  /** How many times processing began. */
  attempts: number;
  error: string | null;
  updated_at: Date;
}

/**
 * One unit of a fanned-out full training's cross-validation: parameters P fitted on fold F for E epochs. The
 * training that owns it (its job) creates it and runs what nobody else has claimed; any idle worker may claim one
 * (`worker`, renewed `lease_expires_at`). `spec_json` holds all a worker needs besides the symbol's stored bars.
 */
export interface FoldTaskRow {
  id: number;
  job_id: number;
  /** `params|fold|epochs`, unique within the job. */
  task_key: string;
  symbol: string;
  spec_json: Record<string, unknown>;
  status: 'queued' | 'running' | 'done';
  worker: string | null;
  lease_expires_at: Date | null;
  /** The fold's {f1, mse} and out-of-fold predictions, once done. */
  result_json: Record<string, unknown> | null;
  created_at: Date;
  finished_at: Date | null;
}

export interface BacktestRow {
  /** The backtest's name, which is also its prediction set. */
  name: string;
  symbols_json: string[];
  date_from: string;
  date_to: string;
  training_type: string;
  sessions: number;
  /** The latest replay's reports per strategy and symbol (null until replayed). */
  report_json: Record<string, unknown> | null;
  created_at: Date;
}

export const TABLES = {
  bar: 'lstm_bar',
  modelVersion: 'lstm_model_version',
  currentVersion: 'lstm_current_version',
  trainingRun: 'lstm_training_run',
  predictionLog: 'lstm_prediction_log',
  accuracyRecord: 'lstm_accuracy_record',
  trainingFailure: 'lstm_training_failure',
  alert: 'lstm_alert',
  trainingLock: 'lstm_training_lock',
  trainingJob: 'lstm_training_job',
  performanceCheck: 'lstm_performance_check',
  triggerDecision: 'lstm_trigger_decision',
  backtest: 'lstm_backtest',
  sessionRun: 'lstm_session_run',
  foldTask: 'lstm_fold_task',
} as const;

const symbol = { type: 'varchar', length: 32 } as const;
const versionId = { type: 'varchar', length: 64 } as const;
const sessionDate = { type: 'date' } as const;
const double = { type: 'double' } as const;

/** Every entity of the store, typed for `dialect`. */
export function buildEntities(dialect: Dialect) {
  const types = columnTypes(dialect);
  const datetime = types.datetime;
  const createdAt = { ...datetime, createDate: true };
  const json = (nullable: boolean) => ({ type: types.jsonText, nullable, transformer: jsonTransformer });

  const bar = new EntitySchema<BarRow>({
    name: 'Bar',
    tableName: TABLES.bar,
    columns: {
      symbol: { ...symbol, primary: true },
      date: { ...sessionDate, primary: true },
      open: double,
      high: double,
      low: double,
      close: double,
      volume: double,
    },
  });

  const modelVersion = new EntitySchema<ModelVersionRow>({
    name: 'ModelVersion',
    tableName: TABLES.modelVersion,
    columns: {
      version_id: { ...versionId, primary: true },
      symbol,
      training_type: { type: 'varchar', length: 16 },
      training_time: datetime,
      data_start: sessionDate,
      data_end: sessionDate,
      metadata_json: json(false),
      model_blob: { type: types.blob, select: false },
      blob_bytes: { type: 'integer' },
      checksum: { type: 'varchar', length: 64 },
      status: { type: 'varchar', length: 16, default: 'candidate' },
      created_at: createdAt,
    },
    indices: [{ name: 'idx_model_version_symbol', columns: ['symbol', 'training_time'] }],
  });

  const currentVersion = new EntitySchema<CurrentVersionRow>({
    name: 'CurrentVersion',
    tableName: TABLES.currentVersion,
    columns: {
      symbol: { ...symbol, primary: true },
      version_id: versionId,
      updated_at: datetime,
    },
    // The current version can never be deleted from under a symbol (prune and failed deploys rely on this).
    foreignKeys: [
      {
        name: 'fk_current_version_version',
        target: 'ModelVersion',
        columnNames: ['version_id'],
        referencedColumnNames: ['version_id'],
        onDelete: 'RESTRICT',
        onUpdate: 'RESTRICT',
      },
    ],
    indices: [{ name: 'idx_current_version_version', columns: ['version_id'] }],
  });

  const trainingRun = new EntitySchema<TrainingRunRow>({
    name: 'TrainingRun',
    tableName: TABLES.trainingRun,
    columns: {
      id: { type: 'integer', primary: true, generated: 'increment' },
      version_id: { ...versionId, nullable: true },
      symbol,
      training_type: { type: 'varchar', length: 16 },
      trigger_type: { type: 'varchar', length: 24 },
      data_start: { ...sessionDate, nullable: true },
      data_end: { ...sessionDate, nullable: true },
      params_json: json(true),
      metrics_json: json(true),
      validation_deployed: { type: 'boolean' },
      validation_reason: { type: types.text, nullable: true },
      holdout_metrics_json: json(true),
      duration_seconds: double,
      created_at: createdAt,
    },
    indices: [{ name: 'idx_training_run_symbol', columns: ['symbol', 'created_at'] }],
  });

  const predictionLog = new EntitySchema<PredictionLogRow>({
    name: 'PredictionLog',
    tableName: TABLES.predictionLog,
    columns: {
      id: { type: 'integer', primary: true, generated: 'increment' },
      prediction_set: { type: 'varchar', length: 64, default: 'live' },
      symbol,
      predict_date: sessionDate,
      direction: { type: 'integer' },
      magnitude: double,
      prob_up: double,
      model_version_id: { ...versionId, default: '' },
      source: { type: 'varchar', length: 16 },
      signal_json: json(true),
      created_at: createdAt,
    },
    indices: [
      // Predicting the same symbol, session and model again must not add a row.
      {
        name: 'uq_prediction_log',
        unique: true,
        columns: ['prediction_set', 'symbol', 'predict_date', 'source', 'model_version_id'],
      },
      { name: 'idx_prediction_log_symbol_date', columns: ['symbol', 'predict_date'] },
    ],
  });

  const accuracyRecord = new EntitySchema<AccuracyRecordRow>({
    name: 'AccuracyRecord',
    tableName: TABLES.accuracyRecord,
    columns: {
      id: { type: 'integer', primary: true, generated: 'increment' },
      prediction_id: { type: 'integer' },
      prediction_set: { type: 'varchar', length: 64 },
      symbol,
      predict_date: sessionDate,
      actual_date: sessionDate,
      predicted_direction: { type: 'integer' },
      actual_direction: { type: 'integer' },
      predicted_magnitude: double,
      actual_magnitude: double,
      error_magnitude: double,
      direction_correct: { type: 'boolean' },
      model_version_id: versionId,
      source: { type: 'varchar', length: 16 },
      baselines_json: json(true),
      levels_covered: { type: 'boolean', nullable: true },
      created_at: createdAt,
    },
    foreignKeys: [
      {
        name: 'fk_accuracy_prediction',
        target: 'PredictionLog',
        columnNames: ['prediction_id'],
        referencedColumnNames: ['id'],
        onDelete: 'CASCADE',
        onUpdate: 'RESTRICT',
      },
    ],
    indices: [
      // One accuracy record per prediction: backfill is idempotent.
      { name: 'uq_accuracy_prediction', unique: true, columns: ['prediction_id'] },
      { name: 'idx_accuracy_symbol_date', columns: ['symbol', 'actual_date'] },
    ],
  });

  const trainingFailure = new EntitySchema<TrainingFailureRow>({
    name: 'TrainingFailure',
    tableName: TABLES.trainingFailure,
    columns: {
      id: { type: 'integer', primary: true, generated: 'increment' },
      symbol,
      training_type: { type: 'varchar', length: 16, nullable: true },
      trigger_type: { type: 'varchar', length: 24, nullable: true },
      error_message: { type: types.text },
      created_at: createdAt,
    },
    indices: [{ name: 'idx_training_failure_symbol', columns: ['symbol', 'created_at'] }],
  });

  const alert = new EntitySchema<AlertRow>({
    name: 'Alert',
    tableName: TABLES.alert,
    columns: {
      id: { type: 'integer', primary: true, generated: 'increment' },
      alert_type: { type: 'varchar', length: 32 },
      symbol: { ...symbol, nullable: true },
      severity: { type: 'varchar', length: 16 },
      message: { type: types.text },
      details_json: json(true),
      dedupe_key: { type: 'varchar', length: 128 },
      delivery_status: { type: 'varchar', length: 16 },
      delivery_attempts: { type: 'integer', default: 0 },
      last_error: { type: types.text, nullable: true },
      delivered_at: { ...datetime, nullable: true },
      next_attempt_at: { ...datetime, nullable: true },
      created_at: createdAt,
    },
    indices: [
      { name: 'idx_alert_dedupe', columns: ['dedupe_key', 'created_at'] },
      { name: 'idx_alert_status', columns: ['delivery_status'] },
    ],
  });

  const trainingLock = new EntitySchema<TrainingLockRow>({
    name: 'TrainingLock',
    tableName: TABLES.trainingLock,
    columns: {
      symbol: { ...symbol, primary: true },
      owner: { type: 'varchar', length: 128 },
      acquired_at: datetime,
      expires_at: datetime,
    },
  });

  const trainingJob = new EntitySchema<TrainingJobRow>({
    name: 'TrainingJob',
    tableName: TABLES.trainingJob,
    columns: {
      id: { type: 'integer', primary: true, generated: 'increment' },
      symbol,
      training_type: { type: 'varchar', length: 16 },
      trigger_type: { type: 'varchar', length: 24 },
      session: { ...sessionDate, nullable: true },
      status: { type: 'varchar', length: 16 },
      error: { type: types.text, nullable: true },
      run_id: { type: 'integer', nullable: true },
      version_id: { ...versionId, nullable: true },
      created_at: createdAt,
      started_at: { ...datetime, nullable: true },
      finished_at: { ...datetime, nullable: true },
      data_start: { ...sessionDate, nullable: true },
      data_end: { ...sessionDate, nullable: true },
      worker: { type: 'varchar', length: 160, nullable: true },
      lease_expires_at: { ...datetime, nullable: true },
      attempts: { type: 'integer', default: 0 },
      active_key: { type: 'varchar', length: 96, nullable: true },
      progress_json: json(true),
    },
    indices: [
      { name: 'idx_training_job_status', columns: ['status', 'created_at'] },
      { name: 'idx_training_job_symbol', columns: ['symbol', 'created_at'] },
      { name: 'uq_training_job_active', unique: true, columns: ['active_key'] },
    ],
  });

  const performanceCheck = new EntitySchema<PerformanceCheckRow>({
    name: 'PerformanceCheck',
    tableName: TABLES.performanceCheck,
    columns: {
      id: { type: 'integer', primary: true, generated: 'increment' },
      symbol,
      triggered: { type: 'boolean' },
      recent_avg_error: { ...double, nullable: true },
      historical_avg_error: { ...double, nullable: true },
      threshold: { ...double, nullable: true },
      multiplier: double,
      n_recent_samples: { type: 'integer' },
      n_historical_samples: { type: 'integer' },
      detected_at: createdAt,
    },
    indices: [{ name: 'idx_performance_check_symbol', columns: ['symbol', 'detected_at'] }],
  });

  const triggerDecision = new EntitySchema<TriggerDecisionRow>({
    name: 'TriggerDecision',
    tableName: TABLES.triggerDecision,
    columns: {
      id: { type: 'integer', primary: true, generated: 'increment' },
      symbol,
      session: sessionDate,
      trigger_type: { type: 'varchar', length: 24, nullable: true },
      training_type: { type: 'varchar', length: 16, nullable: true },
      reason: { type: types.text },
      candidates_json: json(false),
      job_id: { type: 'integer', nullable: true },
      created_at: createdAt,
    },
    indices: [
      // One decision per symbol and session: at most one training per symbol per session.
      { name: 'uq_trigger_decision', unique: true, columns: ['symbol', 'session'] },
    ],
  });

  const backtest = new EntitySchema<BacktestRow>({
    name: 'Backtest',
    tableName: TABLES.backtest,
    columns: {
      name: { type: 'varchar', length: 64, primary: true },
      symbols_json: json(false),
      date_from: sessionDate,
      date_to: sessionDate,
      training_type: { type: 'varchar', length: 16 },
      sessions: { type: 'integer' },
      report_json: json(true),
      created_at: createdAt,
    },
  });

  const sessionRun = new EntitySchema<SessionRunRow>({
    name: 'SessionRun',
    tableName: TABLES.sessionRun,
    columns: {
      id: { type: 'integer', primary: true, generated: 'increment' },
      prediction_set: { type: 'varchar', length: 64 },
      symbol,
      session: sessionDate,
      status: { type: 'varchar', length: 16 },
      attempts: { type: 'integer' },
      error: { type: types.text, nullable: true },
      updated_at: datetime,
    },
    indices: [{ name: 'uq_session_run', unique: true, columns: ['prediction_set', 'symbol', 'session'] }],
  });

  const foldTask = new EntitySchema<FoldTaskRow>({
    name: 'FoldTask',
    tableName: TABLES.foldTask,
    columns: {
      id: { type: 'integer', primary: true, generated: 'increment' },
      job_id: { type: 'integer' },
      task_key: { type: 'varchar', length: 128 },
      symbol,
      spec_json: json(false),
      status: { type: 'varchar', length: 16 },
      worker: { type: 'varchar', length: 160, nullable: true },
      lease_expires_at: { ...datetime, nullable: true },
      result_json: json(true),
      created_at: createdAt,
      finished_at: { ...datetime, nullable: true },
    },
    indices: [
      { name: 'uq_fold_task', unique: true, columns: ['job_id', 'task_key'] },
      { name: 'idx_fold_task_status', columns: ['status', 'id'] },
    ],
  });

  return {
    backtest,
    sessionRun,
    foldTask,
    bar,
    modelVersion,
    currentVersion,
    trainingRun,
    predictionLog,
    accuracyRecord,
    trainingFailure,
    alert,
    trainingLock,
    trainingJob,
    performanceCheck,
    triggerDecision,
  };
}

export type Entities = ReturnType<typeof buildEntities>;
