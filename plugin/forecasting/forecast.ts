/**
 * One forecast interface, three implementations (LSTM, ARIMA, technical rules): the fallback chain is
 * a list of them. A forecaster either answers with a plausible forecast or throws ForecastUnavailable
 * saying why; it never returns garbage.
 */
import type { DailyBar } from '../bar.js';
import type { ModelSkill } from '../skill/model-skill.js';
import { FORECAST_DAYS } from '../training/constants.js';

/** `base_rate` is the last resort when no tier has shown skill: the climatology, which makes no call. */
export type ForecastSource = 'lstm' | 'arima' | 'technical' | 'base_rate';

/** Predicted moves beyond this are clamped: no daily-bar model earns the right to forecast more. */
export const MAX_PREDICTED_MOVE = 0.15;

export interface ForecastInput {
  symbol: string;
  /** The symbol's bars up to and including `asOf`, ascending. Nothing later may be passed in. */
  bars: readonly DailyBar[];
  /** The session the forecast is made at: the last bar's date. */
  asOf: string;
}

export interface Forecast {
  symbol: string;
  asOf: string;
  source: ForecastSource;
  /** The registry version for LSTM; null for sources without a stored model. */
  modelVersion: string | null;
  /** Probability that close[asOf + FORECAST_DAYS] > close[asOf]: calibrated where the source has a calibration. */
  probUp: number;
  /** The source's own probability before calibration (= probUp for a source without one). */
  probUpRaw: number;
  /** 1 = up, 0 = down: probUp > 0.5. */
  direction: 0 | 1;
  /** Expected return from the as-of close to each of the next FORECAST_DAYS sessions, clamped to ±MAX_PREDICTED_MOVE. */
  expectedReturns: number[];
  /** The FORECAST_DAYS-session return: the last of `expectedReturns`. */
  magnitude: number;
  /** For a fallback: why each tier above failed, in chain order. */
  fallbackReasons: Array<{ source: ForecastSource; reason: string }>;
  /** Source-specific facts worth logging (e.g. the ARIMA order, the rule that fired). */
  details: Record<string, unknown>;
  /**
   * For conformal levels: out-of-sample scores of the horizon return ((actual − predicted) / volatility scale,
   * ascending) and today's volatility scale; none for most sources.
   */
  conformal?: ConformalScores;
  /** Distance of today's features from the model's training rows (see skill/dissimilarity.ts); null when not measured. */
  dissimilarity: number | null;
  /** What the source has shown against the baselines; null when it was never measured. */
  skill: ModelSkill | null;
}

export interface ConformalScores {
  scores: readonly number[];
  scale: number;
}

export interface Forecaster {
  readonly source: ForecastSource;
  /** Resolves with a forecast or rejects with ForecastUnavailable. */
  forecast(input: ForecastInput): Promise<Forecast>;
}

export class ForecastUnavailable extends Error {
  constructor(
    readonly source: ForecastSource,
    readonly reason: string,
  ) {
    super(`${source}: ${reason}`);
    this.name = 'ForecastUnavailable';
  }
}

export function clampMove(value: number): number {
  return Math.max(-MAX_PREDICTED_MOVE, Math.min(MAX_PREDICTED_MOVE, value));
}

/**
 * Builds a forecast from raw model output, enforcing the shared rules: a path of FORECAST_DAYS finite
 * returns and a probability in [0, 1] (else ForecastUnavailable), moves clamped to ±15%.
 */
export function makeForecast(
  input: ForecastInput,
  source: ForecastSource,
  raw: {
    probUp: number;
    probUpRaw?: number;
    expectedReturns: readonly number[];
    modelVersion?: string | null;
    details?: Record<string, unknown>;
    conformal?: ConformalScores;
    dissimilarity?: number | null;
    skill?: ModelSkill | null;
  },
): Forecast {
  if (raw.expectedReturns.length !== FORECAST_DAYS) {
    throw new ForecastUnavailable(source, `forecast has ${raw.expectedReturns.length} sessions, expected ${FORECAST_DAYS}`);
  }
  if (!raw.expectedReturns.every(Number.isFinite)) throw new ForecastUnavailable(source, `non-finite forecast [${raw.expectedReturns.join(', ')}]`);
  if (!(raw.probUp >= 0 && raw.probUp <= 1)) throw new ForecastUnavailable(source, `probability of up ${raw.probUp} is not in [0, 1]`);
  const expectedReturns = raw.expectedReturns.map(clampMove);
  return {
    symbol: input.symbol,
    asOf: input.asOf,
    source,
    modelVersion: raw.modelVersion ?? null,
    probUp: raw.probUp,
    probUpRaw: raw.probUpRaw ?? raw.probUp,
    direction: raw.probUp > 0.5 ? 1 : 0,
    expectedReturns,
    magnitude: expectedReturns[expectedReturns.length - 1]!,
    fallbackReasons: [],
    details: raw.details ?? {},
    ...(raw.conformal && { conformal: raw.conformal }),
    dissimilarity: raw.dissimilarity ?? null,
    skill: raw.skill ?? null,
  };
}
