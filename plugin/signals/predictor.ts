/**
 * The predict path, the same for live sessions, the weekly run and backtests: the symbol's bars up to the
 * as-of session → the forecaster chain → a graded signal → the prediction log.
 */
import type { DailyBar } from '../bar.js';
import { findSplitJumps, unresolvedSplitReason } from '../bar-splits.js';
import type { PluginConfig } from '../config.js';
import { ArimaForecaster } from '../forecasting/arima-forecaster.js';
import { BaseRateForecaster } from '../forecasting/base-rate-forecaster.js';
import { forecastWithFallback } from '../forecasting/fallback.js';
import type { Forecast, Forecaster } from '../forecasting/forecast.js';
import { LstmForecaster } from '../forecasting/lstm-forecaster.js';
import { SkillGatedForecaster } from '../forecasting/skill-gated-forecaster.js';
import { TechnicalForecaster, technicalScore } from '../forecasting/technical-forecaster.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { TrainingLog } from '../registry/training-log.js';
import { BarStore } from '../store/bar-store.js';
import type { PredictionLogRow } from '../store/entities.js';
import type { Store } from '../store/store.js';
import { gradeForecast, gradingRulesFromConfig, type GradingRules } from './grading.js';
import { LIVE_SET, PredictionLog } from './prediction-log.js';
import type { Signal } from './signal.js';

export interface Prediction {
  forecast: Forecast;
  signal: Signal;
  logged: PredictionLogRow;
  /** False when this exact prediction was already in the log. */
  created: boolean;
}

export interface PredictOptions {
  /** The session to predict at; default the symbol's latest stored bar. Bars after it are never read. */
  asOf?: string;
  /** Overrides the configured `use_fallback`. */
  useFallback?: boolean;
  predictionSet?: string;
}

/**
 * The chain: LSTM → ARIMA → technical rules. With the skill gate on (training.skill_gate), each tier answers only
 * when it has shown skill on the symbol's latest holdout, and the base rate — which makes no call — answers when
 * none has.
 */
export class Predictor {
  private readonly lstm: LstmForecaster;
  private readonly fallbacks: Forecaster[];
  private readonly rules: GradingRules;
  private readonly bars: BarStore;
  private readonly log: PredictionLog;

  constructor(
    store: Store,
    private readonly config: PluginConfig,
    /** The host's clock (simulated in a backtest): signals measure their data's age on it. */
    private readonly now: () => Date = () => new Date(),
  ) {
    // Invalid rule combinations (e.g. buy_prob above strong_buy_prob) fail here, before any prediction.
    this.rules = gradingRulesFromConfig(config.signals);
    const skillGate = config.training.skill_gate;
    this.lstm = new LstmForecaster(new ModelRegistry(store), { maxDaysWithoutTraining: config.max_days_without_training, skillGate });
    const log = new TrainingLog(store);
    const tiers = [new ArimaForecaster(), new TechnicalForecaster()].map((tier) => new SkillGatedForecaster(tier, (symbol, source) => log.fallbackSkill(symbol, source), skillGate));
    this.fallbacks = skillGate ? [...tiers, new BaseRateForecaster()] : tiers;
    this.bars = new BarStore(store);
    this.log = new PredictionLog(store);
  }

  /** Predicts from bars the caller already holds (ending on the as-of session), then grades and logs. */
  async predictFromBars(symbol: string, bars: readonly DailyBar[], options: Omit<PredictOptions, 'asOf'> = {}): Promise<Prediction> {
    const asOf = bars[bars.length - 1]?.date;
    if (!asOf) throw new Error(`${symbol}: no bars to predict from`);
    const split = findSplitJumps(bars, this.config.bars).at(-1);
    if (split) throw new Error(unresolvedSplitReason(symbol, split));
    const useFallback = options.useFallback ?? this.config.use_fallback;
    const chain = useFallback ? [this.lstm, ...this.fallbacks] : [this.lstm];
    const forecast = await forecastWithFallback(chain, { symbol, bars, asOf });
    const signal = gradeForecast(forecast, bars, technicalScore(bars), this.rules, this.now());
    const { row, created } = await this.log.record(forecast, signal, options.predictionSet ?? LIVE_SET);
    return { forecast, signal, logged: row, created };
  }

  async predict(symbol: string, options: PredictOptions = {}): Promise<Prediction> {
    const bars = await this.bars.load(symbol, options.asOf ? { to: options.asOf } : {});
    if (options.asOf && bars[bars.length - 1]?.date !== options.asOf) {
      throw new Error(`${symbol}: ${options.asOf} is not a stored session (last stored bar on or before it: ${bars[bars.length - 1]?.date ?? 'none'})`);
    }
    return this.predictFromBars(symbol, bars, options);
  }

  dispose(): void {
    this.lstm.dispose();
  }
}
