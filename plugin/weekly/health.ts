/**
 * System health and the latest signals, as a trading manager asks for them. Not healthy when a symbol has no
 * usable model, when its stored data is older than signals.max_data_age_days on the clock (its signals would be
 * those of a past session), or when the last weekly run failed. Whether each current model has shown skill is
 * reported beside it, as a note: an unskilled model is an honest answer (the base rate serves), not a fault.
 * A SQLite database file that fails its integrity check is the one problem reported, before anything is read.
 */
import { readFile } from 'node:fs/promises';
import { In } from 'typeorm';
import { calendarDaysBetween } from '../calendar.js';
import type { PluginConfig } from '../config.js';
import { checkModelHealth, type ModelHealth } from '../forecasting/lstm-forecaster.js';
import { initBackend, type BackendInfo } from '../model/backend.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { TrainingLog } from '../registry/training-log.js';
import type { SignalSkill } from '../signals/signal.js';
import type { ModelSkill } from '../skill/model-skill.js';
import { BarStore } from '../store/bar-store.js';
import { checkIntegrity } from '../store/integrity.js';
import type { Store } from '../store/store.js';
import { readStatusFile, type WeeklySignalsFile, type WeeklyStatusFile } from './output-files.js';

export interface SymbolHealth extends ModelHealth {
  symbol: string;
  last_bar: string;
  /** Calendar days from the last stored session to the clock's date. */
  data_age_days: number;
  /** data_age_days above signals.max_data_age_days: the symbol's latest signal is of a past session. */
  stale: boolean;
  /** Training failures recorded since the current model was trained (all of them when there is none). */
  training_failures: number;
  /** The current model's holdout skill (its metadata): shown = passed the skill gate; null without a model or a measure. */
  skill: SignalSkill;
  /** Fallback tiers (arima, technical) whose latest holdout showed skill. */
  skilled_fallbacks: string[];
  /**
   * Why the skill gate refused the symbol's latest full/fast model, when that is why it has no current model: the
   * gate working as designed (the base rate answers), so a note rather than a problem.
   */
  skill_gate_refusal: string | null;
}

export interface SystemHealth {
  healthy: boolean;
  checked_at: string;
  backend: BackendInfo;
  last_run: WeeklyStatusFile | null;
  symbols: SymbolHealth[];
  /** Every reason the system is not healthy. */
  problems: string[];
  /** What a trader should know that is no fault: symbols where no forecaster has shown skill. */
  notes: string[];
}

export interface HealthOptions {
  /** The clock the data's age is measured on (default the wall clock). */
  now?: Date;
}

const FALLBACK_TIERS = ['arima', 'technical'] as const;

/** The gate's reason when the symbol's latest full/fast training was refused for showing no skill. */
async function skillGateRefusal(store: Store, symbol: string): Promise<string | null> {
  const run = await store.repos.trainingRun.findOne({ where: { symbol, training_type: In(['full', 'fast']) }, order: { id: 'DESC' } });
  const gate = (run?.metrics_json?.skill as { gate?: { enabled?: boolean; passed?: boolean; reason?: string } } | undefined)?.gate;
  if (!run || run.validation_deployed || !gate?.enabled || gate.passed !== false) return null;
  return gate.reason ?? run.validation_reason ?? 'no skill shown';
}

function modelSkillOf(symbol: string, versionId: string | null, skill: ModelSkill | undefined, refusal: string | null): SignalSkill {
  if (!versionId) {
    const summary = refusal ? `the skill gate refused ${symbol}'s latest model: ${refusal}` : `${symbol} has no current model`;
    return { shown: refusal ? false : null, summary, measured: null };
  }
  if (!skill) return { shown: null, summary: `the skill of model ${versionId} was never measured`, measured: null };
  return { shown: skill.passed, summary: skill.summary, measured: skill };
}

/** The note for a symbol whose current model has not shown skill; undefined when it has. */
function skillNoteOf(s: SymbolHealth, skillGate: boolean): string | undefined {
  if (s.skill.shown === true) return undefined;
  const model = s.version_id ? `model ${s.version_id}: ${s.skill.measured ? s.skill.measured.reason : s.skill.summary}` : s.skill.summary;
  if (s.skilled_fallbacks.length > 0) {
    return `${s.symbol}: the LSTM has not shown skill (${model}); ${s.skilled_fallbacks.join(' and ')} showed skill on the latest holdout${skillGate ? ' and answer instead' : ''}`;
  }
  const served = skillGate ? 'its signals are base-rate HOLDs' : 'training.skill_gate is off, so unskilled forecasts are served anyway';
  return `no forecaster has shown skill on ${s.symbol} (${model}); ${served}`;
}

/** "last weekly run … was partial"; a degraded run names what degraded it (status files of 0.2.0 and earlier have no `degraded`). */
function lastRunProblem(lastRun: WeeklyStatusFile): string {
  const reasons = (lastRun.degraded ?? []).map((d) => d.reason);
  return `last weekly run ${lastRun.last_run} was ${lastRun.status}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`;
}

export async function checkHealth(store: Store, config: PluginConfig, options: HealthOptions = {}): Promise<SystemHealth> {
  const now = options.now ?? new Date();
  const lastRun = (await readStatusFile(config.weekly.output_dir)) ?? null;
  const integrity = await checkIntegrity(store);
  if (integrity.length > 0) {
    // Reading a damaged database answers wrongly or not at all: the damage is the report.
    const notes = ['the per-symbol checks were not run: the database must be restored from a backup first (docs/storage.md)'];
    return { healthy: false, checked_at: now.toISOString(), backend: await initBackend(), last_run: lastRun, symbols: [], problems: integrity, notes };
  }
  const today = now.toISOString().slice(0, 10);
  const registry = new ModelRegistry(store);
  const log = new TrainingLog(store);
  const maxAge = config.signals.max_data_age_days;
  const symbols: SymbolHealth[] = [];
  for (const { symbol, last } of await new BarStore(store).coverage()) {
    const health = await checkModelHealth(registry, symbol, last, config.max_days_without_training);
    const current = await registry.current(symbol);
    const refusal = current ? null : await skillGateRefusal(store, symbol);
    const training_failures = await log.countFailuresSince(symbol, current?.training_time);
    const data_age_days = Math.max(0, calendarDaysBetween(last, today));
    const skilled_fallbacks: string[] = [];
    for (const tier of FALLBACK_TIERS) if ((await log.fallbackSkill(symbol, tier))?.passed) skilled_fallbacks.push(tier);
    symbols.push({
      symbol,
      last_bar: last,
      data_age_days,
      stale: data_age_days > maxAge,
      training_failures,
      ...health,
      skill: modelSkillOf(symbol, current?.version_id ?? null, current?.metadata_json.skill as ModelSkill | undefined, refusal),
      skilled_fallbacks,
      skill_gate_refusal: refusal,
    });
  }
  const problems = [
    ...(symbols.length === 0 ? ['no symbols have stored bars'] : []),
    // A symbol without a model because the skill gate refused it is served by the base rate, by design: a note.
    ...symbols.filter((s) => !s.healthy && s.skill_gate_refusal === null).map((s) => s.reason),
    ...symbols
      .filter((s) => s.stale)
      .map((s) => `${s.symbol}: the latest stored session is ${s.last_bar}, ${s.data_age_days} days before ${today} (more than signals.max_data_age_days, ${maxAge}): its signals are stale`),
    ...(lastRun && lastRun.status !== 'success' ? [lastRunProblem(lastRun)] : []),
  ];
  const notes = symbols.map((s) => skillNoteOf(s, config.training.skill_gate)).filter((n): n is string => n !== undefined);
  return { healthy: problems.length === 0, checked_at: now.toISOString(), backend: await initBackend(), last_run: lastRun, symbols, problems, notes };
}

export type LatestSignals =
  | { status: 'success'; signal_file: string; signals: WeeklySignalsFile }
  | { status: 'no_signals'; message: string };

/** The signals of the latest weekly run, found through the status file as the original's readers do. */
export async function getLatestSignals(outputDir: string): Promise<LatestSignals> {
  const status = await readStatusFile(outputDir);
  if (!status) return { status: 'no_signals', message: `no weekly run has written ${outputDir}/weekly_trading_signals/lstm_status.json yet` };
  if (status.latest_signal_file === null) return { status: 'no_signals', message: `no weekly run has produced a signal yet (the last, ${status.last_run}, was ${status.status})` };
  return { status: 'success', signal_file: status.latest_signal_file, signals: JSON.parse(await readFile(status.latest_signal_file, 'utf8')) as WeeklySignalsFile };
}
