/** Public API of the plugin: what hosts, adapters and strategies may import. */
export { createPlugin, type LstmSignalsPlugin, type TrainCommand } from './plugin.js';
export { manifest, type Manifest } from './manifest.js';
export { resolveConfig, type PluginConfig, type PluginConfigInput, type TrainingSettings, type TrainingParams } from './config.js';
export {
  EMITTED_EVENTS,
  CONSUMED_EVENTS,
  type PluginEvents,
  type BarsIngestedEvent,
  type TrainingStartedEvent,
  type TrainingCompletedEvent,
  type TrainingFailedEvent,
  type ModelDeployedEvent,
  type SignalEvent,
  type PredictionEvent,
} from './events.js';
export type * from './host.js';
export type { DailyBar, BarProblem, BarField } from './bar.js';
export { validateBars, BarSeriesValidator, formatBarProblem, type RawBarRow, type BarValidationResult } from './bar-validation.js';
export { TradingCalendar, isSessionDate } from './calendar.js';
export { DEFAULT_DATABASE_TIMEOUTS, Store, type DatabaseTimeouts, type StoreOptions } from './store/store.js';
export { DatabaseUnavailableError, MigrationLockTimeoutError, NotADatabaseFileError } from './store/errors.js';
export { BarStore, type BarRevision, type BarIngestResult } from './store/bar-store.js';
export { parseDatabaseUrl, redactUrl } from './store/database-url.js';
export { DEFAULT_FEATURE_NAMES, buildFeatureFrame, featureFrameToRecords, type FeatureName, type FeatureFrame, type FeatureRecord } from './features/frame.js';
export { SEQ_LEN, FORECAST_DAYS } from './training/constants.js';
export { Trainer, parameterGrid, type TrainingMode, type TrainingProgress, type TrainRequest, type TrainOutcome, type CvResult, type RunSkill } from './training/trainer.js';
export { trainingSpec, trainingSpecMarkdown, type TrainingSpec } from './training/spec.js';
export { plotData, type PlotData } from './training/plot-data.js';
export { ModelRegistry, ModelBlobError, CandidateVersionError } from './registry/model-registry.js';
export { isDatabaseUnavailable } from './api/unavailable.js';
export { TrainingLog } from './registry/training-log.js';
export { DatabaseTrainingQueue } from './queue/database-queue.js';
export { activeKey, type QueueOptions, type WorkingQueue } from './queue/job-table.js';
export { openTrainingQueue, queueUrl, REDIS_URL_ENV } from './queue/queue-engine.js';
export type { TrainingQueue, TrainingQueueEvent, TrainingJobRequest, QueueState } from './queue/training-queue.js';
export { LstmModel, type ModelMetadata, type ModelPrediction } from './model/lstm-model.js';
export { initBackend, currentBackend, type BackendInfo } from './model/backend.js';
export { decideDeployment, type DeployDecision, type DeployThresholds } from './training/deploy-rule.js';
export { evaluate, type HoldoutMetrics } from './training/metrics.js';
export { makeForecast, clampMove, ForecastUnavailable, MAX_PREDICTED_MOVE, type Forecast, type ForecastInput, type Forecaster, type ForecastSource } from './forecasting/forecast.js';
export { forecastWithFallback, NoForecastError } from './forecasting/fallback.js';
export { LstmForecaster, checkModelHealth, type ModelHealth } from './forecasting/lstm-forecaster.js';
export type { Signal, Action, Grade, RiskLevel, LevelsRule, SignalSkill } from './signals/signal.js';
export { gradeForecast, gradingRulesFromConfig, DEFAULT_GRADING_RULES, volatilityPercentile, type GradingRules, type GradingRulesConfig } from './signals/grading.js';
export { PredictionLog, LIVE_SET } from './signals/prediction-log.js';
export { updateAccuracy, type BackfillResult } from './accuracy/backfill.js';
export { Predictor, type Prediction, type PredictOptions } from './signals/predictor.js';
export { runWeeklyAnalysis, type WeeklyRunOptions, type WeeklyRunResult } from './weekly/weekly-run.js';
export { checkHealth, getLatestSignals, type SystemHealth, type SymbolHealth, type LatestSignals } from './weekly/health.js';
export { SIGNALS_FILE_SCHEMA, STATUS_FILE_SCHEMA, SIGNAL_SCHEMA } from './weekly/file-schemas.js';
export type { WeeklySignalsFile, WeeklyStatusFile } from './weekly/output-files.js';
export { REPORT_SHEETS } from './weekly/excel-report.js';
export { loadVerifiedPredictionSet, verifyPredictions, PredictionSetRefused, type PredictionSet, type SetProblem } from './backtest/prediction-set.js';
export type { SessionReport, SymbolSessionReport } from './runtime/session-runner.js';
export { calibrationReport, type CalibrationReport, type Calibration, type CalibrationBucket } from './monitoring/calibration.js';
export { skillReport, type SkillReport, type TrainingSkill } from './skill/skill-report.js';
export { liveSkill, type LiveSkillReport } from './skill/live-skill.js';
export { skillTable, skillVerdict, describeSkill, MIN_SKILL_SESSIONS, MIN_DISCRIMINATION_SESSIONS, type SkillTable, type ForecasterSkill, type PairedComparison, type SkillVerdict, type RealisedOutcome, type ForecastSeries } from './skill/skill-table.js';
export type { ModelSkill } from './skill/model-skill.js';
export { BASELINE_NAMES, type BaselineName, type PointForecast } from './skill/baselines.js';
export { wilsonInterval, type Interval } from './skill/stats.js';
export type { ReliabilityBin, CalibrationMap, CalibrationMethod } from './skill/calibration-map.js';
export type { BacktestRow, PredictionLogRow, AccuracyRecordRow, TrainingRunRow, ModelVersionRow, AlertRow, TrainingJobRow } from './store/entities.js';
