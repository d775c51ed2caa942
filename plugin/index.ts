/** Public API of the plugin: what hosts, adapters and strategies may import. */
export { createPlugin, type LstmSignalsPlugin } from './plugin.js';
export { manifest, type Manifest } from './manifest.js';
export { resolveConfig, type PluginConfig, type PluginConfigInput, type TrainingSettings, type TrainingParams } from './config.js';
export { EMITTED_EVENTS, CONSUMED_EVENTS, type PluginEvents, type BarsIngestedEvent } from './events.js';
export type * from './host.js';
export type { DailyBar, BarProblem, BarField } from './bar.js';
export { validateBars, formatBarProblem, type RawBarRow, type BarValidationResult } from './bar-validation.js';
export { TradingCalendar, isSessionDate } from './calendar.js';
export { Store, type StoreOptions } from './store/store.js';
export { BarStore, type BarRevision, type BarIngestResult } from './store/bar-store.js';
export { parseDatabaseUrl, redactUrl } from './store/database-url.js';
export { DEFAULT_FEATURE_NAMES, buildFeatureFrame, featureFrameToRecords, type FeatureName, type FeatureFrame, type FeatureRecord } from './features/frame.js';
export { SEQ_LEN, FORECAST_DAYS } from './training/constants.js';
