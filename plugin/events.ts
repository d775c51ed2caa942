/** The events the plugin emits and consumes, with their payloads. manifest.json declares the same names. */
import type { BarProblem } from './bar.js';
import type { HostEvents } from './host.js';
import type { BarRevision } from './store/bar-store.js';
import type { Forecast } from './forecasting/forecast.js';
import type { SessionReport } from './runtime/session-runner.js';
import type { AlertRow } from './store/entities.js';
import type { Signal } from './signals/signal.js';
import type { HoldoutMetrics } from './training/metrics.js';
import type { TrainingMode, TrainingProgress } from './training/trainer.js';

export interface BarsIngestedEvent {
  symbol: string;
  /** `history`: the feed's back history at activation; `live`: a bar from the live feed. */
  origin: 'history' | 'live';
  /** Rows received. */
  rows: number;
  inserted: number;
  revised: number;
  unchanged: number;
  /** Rows refused by validation (all of them when `rejected`). */
  dropped: number;
  /** Strict mode refused the whole batch. */
  rejected: boolean;
  problems: BarProblem[];
  revisions: BarRevision[];
  /** The feed could not deliver this symbol at all (e.g. a file with a missing column): nothing was stored. */
  error?: string;
}

export interface TrainingStartedEvent {
  symbol: string;
  mode: TrainingMode;
  trigger: string;
}

export interface TrainingCompletedEvent extends TrainingStartedEvent {
  version_id: string;
  deployed: boolean;
  reason: string;
  holdout: HoldoutMetrics | null;
  run_id: number;
  duration_seconds: number;
}

export interface TrainingFailedEvent extends TrainingStartedEvent {
  error: string;
}

export interface ModelDeployedEvent {
  symbol: string;
  version_id: string;
  previous_version_id: string | null;
  reason: string;
}

export interface SignalEvent {
  signal: Signal;
}

export interface PredictionEvent {
  prediction_set: string;
  /** The log row's id; the same id again when the prediction was already logged. */
  prediction_id: number;
  created: boolean;
  forecast: Forecast;
}

export interface ModelRolledBackEvent {
  symbol: string;
  version_id: string;
  previous_version_id: string | null;
}

export interface AlertEvent {
  alert: AlertRow;
}

export interface PluginEvents {
  'lstm:bars:ingested': BarsIngestedEvent;
  'lstm:signal': SignalEvent;
  'lstm:prediction': PredictionEvent;
  'lstm:training:started': TrainingStartedEvent;
  'lstm:training:progress': TrainingProgress;
  'lstm:training:completed': TrainingCompletedEvent;
  'lstm:training:failed': TrainingFailedEvent;
  'lstm:model:deployed': ModelDeployedEvent;
  'lstm:model:rolled-back': ModelRolledBackEvent;
  'lstm:alert': AlertEvent;
  'lstm:session:processed': SessionReport;
}

export const EMITTED_EVENTS = [
  'lstm:bars:ingested',
  'lstm:signal',
  'lstm:prediction',
  'lstm:training:started',
  'lstm:training:progress',
  'lstm:training:completed',
  'lstm:training:failed',
  'lstm:model:deployed',
  'lstm:model:rolled-back',
  'lstm:alert',
  'lstm:session:processed',
] as const satisfies ReadonlyArray<keyof PluginEvents>;
export const CONSUMED_EVENTS = ['host:bar', 'host:session-closed'] as const satisfies ReadonlyArray<keyof HostEvents>;
