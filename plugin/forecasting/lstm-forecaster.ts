/**
 * The LSTM tier: the symbol's current registry version, after a health check. Loaded models are kept
 * per version, so predicting every session does not re-read the blob; a new current version replaces
 * the cached one.
 */
import { calendarDaysBetween } from '../calendar.js';
import { buildFeatureFrame, FEATURE_HISTORY } from '../features/frame.js';
import { buildSamples } from '../features/windows.js';
import { initBackend } from '../model/backend.js';
import { LstmModel, type ModelMetadata } from '../model/lstm-model.js';
import { ModelBlobError, type ModelRegistry } from '../registry/model-registry.js';
import { dissimilarity } from '../skill/dissimilarity.js';
import { volatilityScaleAt } from '../skill/volatility-scale.js';
import type { ModelVersionRow } from '../store/entities.js';
import { ForecastUnavailable, makeForecast, type Forecast, type ForecastInput, type Forecaster } from './forecast.js';

export interface ModelHealth {
  healthy: boolean;
  /** Why not, or 'ok'. */
  reason: string;
  version_id: string | null;
  /** Last session the model's data reached. */
  data_end: string | null;
  /** Calendar days from `data_end` to the as-of session. */
  age_days: number | null;
}


/**
 * Healthy = a current version exists, its blob is present and matches its checksum, and its data is not
 * older than `maxDaysWithoutTraining` at `asOf` (measured on the bar calendar, so a backtest ages models
 * exactly as live trading would).
 */
export async function checkModelHealth(registry: ModelRegistry, symbol: string, asOf: string, maxDaysWithoutTraining: number): Promise<ModelHealth> {
  const version = await registry.current(symbol);
  if (!version) return { healthy: false, reason: `${symbol} has no current model version`, version_id: null, data_end: null, age_days: null };
  const base = { version_id: version.version_id, data_end: version.data_end, age_days: calendarDaysBetween(version.data_end, asOf) };
  try {
    await registry.loadBlob(version.version_id);
  } catch (error) {
    if (error instanceof ModelBlobError) return { healthy: false, reason: error.message, ...base };
    throw error;
  }
  if (version.data_end > asOf) {
    // A forecast at a past session from a model that saw later bars would be look-ahead, not a prediction.
    return { healthy: false, reason: `model ${version.version_id} was trained on data through ${version.data_end}, after ${asOf}`, ...base };
  }
  if (base.age_days > maxDaysWithoutTraining) {
    return {
      healthy: false,
      reason: `model ${version.version_id} has data through ${version.data_end}, ${base.age_days} days before ${asOf} (max_days_without_training ${maxDaysWithoutTraining})`,
      ...base,
    };
  }
  return { healthy: true, reason: 'ok', ...base };
}

/**
 * The model's forecast at `asOf`, the last of `bars`: features, the last window, one forward pass; and how far
 * that session's scaled features lie from the training rows (null for a model stored without its reference).
 */
export function predictLatest(model: LstmModel, bars: ForecastInput['bars'], asOf: string): { probUp: number; probUpRaw: number; returns: number[]; dissimilarity: number | null } {
  const { metadata } = model;
  const frame = buildFeatureFrame(bars.slice(-(metadata.seqLen + FEATURE_HISTORY)), metadata.featureNames);
  const samples = buildSamples(frame, { seqLen: metadata.seqLen, horizon: metadata.horizon });
  const last = samples.asOf.length - 1;
  if (last < 0 || samples.asOf[last] !== asOf) {
    throw new ForecastUnavailable('lstm', `not enough bars up to ${asOf} for a ${metadata.seqLen}-session window after the indicator warm-up`);
  }
  const p = model.predict(samples, [last]);
  const today = frame.rows[samples.endIndex[last]!]!.map((x, j) => (x - metadata.scaler.mean[j]!) / metadata.scaler.std[j]!);
  return {
    probUp: p.probUp[0]!,
    probUpRaw: p.probUpRaw[0]!,
    returns: p.returns[0]!,
    dissimilarity: metadata.dissimilarity ? dissimilarity(today, metadata.dissimilarity) : null,
  };
}

export class LstmForecaster implements Forecaster {
  readonly source = 'lstm' as const;
  private readonly loaded = new Map<string, { versionId: string; model: LstmModel }>();

  constructor(
    private readonly registry: ModelRegistry,
    /** `skillGate`: only a model whose holdout showed skill (training.skill_gate) may answer. */
    private readonly options: { maxDaysWithoutTraining: number; skillGate: boolean },
  ) {}

  async forecast(input: ForecastInput): Promise<Forecast> {
    const health = await checkModelHealth(this.registry, input.symbol, input.asOf, this.options.maxDaysWithoutTraining);
    if (!health.healthy) throw new ForecastUnavailable('lstm', health.reason);
    const model = await this.model(input.symbol, (await this.registry.getOrFail(health.version_id!)));
    const { skill } = model.metadata;
    if (this.options.skillGate && !skill?.passed) {
      throw new ForecastUnavailable('lstm', `model ${health.version_id} has not shown skill: ${skill?.reason ?? 'its skill was never measured'}`);
    }
    const p = predictLatest(model, input.bars, input.asOf);
    return makeForecast(input, 'lstm', {
      probUp: p.probUp,
      probUpRaw: p.probUpRaw,
      expectedReturns: p.returns,
      modelVersion: health.version_id,
      details: { trained_through: model.metadata.trainedThrough, backend: model.metadata.backend },
      ...(model.metadata.conformalScores && { conformal: { scores: model.metadata.conformalScores, scale: volatilityScaleAt(input.bars) } }),
      dissimilarity: p.dissimilarity,
      skill: skill ?? null,
    });
  }

  /** Frees every loaded model. */
  dispose(): void {
    for (const { model } of this.loaded.values()) model.dispose();
    this.loaded.clear();
  }

  private async model(symbol: string, version: ModelVersionRow): Promise<LstmModel> {
    const cached = this.loaded.get(symbol);
    if (cached?.versionId === version.version_id) return cached.model;
    cached?.model.dispose();
    await initBackend();
    const { blob } = await this.registry.loadBlob(version.version_id);
    const model = await LstmModel.fromBlob(blob, version.metadata_json as unknown as ModelMetadata);
    this.loaded.set(symbol, { versionId: version.version_id, model });
    return model;
  }
}
