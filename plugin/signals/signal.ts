/** A graded trading signal: the value object strategies subscribe to and the weekly files carry. */
import type { ForecastSource } from '../forecasting/forecast.js';
import type { ModelSkill } from '../skill/model-skill.js';

export type Action = 'BUY' | 'SELL' | 'HOLD';
export type Grade = 'STRONG_BUY' | 'BUY' | 'HOLD' | 'SELL' | 'STRONG_SELL';
export type RiskLevel = 'LOW' | 'MEDIUM' | 'HIGH';
export type LevelsRule = 'conformal' | 'atr' | 'fixed';

/** How well the forecaster that answered has done against the naive baselines. */
export interface SignalSkill {
  /** Whether it passed the skill gate on its holdout; null when it was never measured. */
  shown: boolean | null;
  /** One line: hit rate with its interval and n beside the best baseline's, Brier skill, IC; or why there is no measure. */
  summary: string;
  /** The numbers, when measured. */
  measured: ModelSkill | null;
}

export interface Signal {
  symbol: string;
  /** The session whose close the signal was computed after. */
  as_of: string;
  /** Sessions the forecast looks ahead. */
  horizon: number;
  action: Action;
  grade: Grade;
  /** 1 (weakest) .. 5 (strongest), on the calibrated probability; its realised hit rate is reported per level. */
  confidence: 1 | 2 | 3 | 4 | 5;
  /** Calibrated probability of up (out-of-fold calibration), what the grade and confidence read. */
  prob_up: number;
  /** The forecaster's own probability before calibration. */
  prob_up_raw: number;
  expected_return_1d: number;
  expected_return_2d: number;
  expected_return_3d: number;
  expected_return_4d: number;
  expected_return_5d: number;
  current_price: number;
  stop_loss: number;
  take_profit: number;
  /** conformal: the close `horizon` sessions ahead lies between stop_loss and take_profit with probability levels_coverage (at least: the interval is widened to hold the price); atr, fixed: no stated probability. */
  levels_rule: LevelsRule;
  levels_coverage: number | null;
  risk_level: RiskLevel;
  /** 0 (bearish) .. 1 (bullish) composite of the technical indicators at the as-of session. */
  technical_score: number;
  volume: number;
  source: ForecastSource;
  model_version: string | null;
  /** For a fallback forecast: why the sources above it could not answer. */
  fallback_reasons: Array<{ source: ForecastSource; reason: string }>;
  skill: SignalSkill;
  /** Distance of today's features from the model's training rows over their mean distance; null when not measured. */
  dissimilarity: number | null;
  /** dissimilarity above signals.max_dissimilarity: the model has not seen such a market; confidence capped at 1. */
  out_of_distribution: boolean;
  /** Calendar days from as_of to the host's clock (simulated in a backtest), and weekday sessions in between. */
  data_age_days: number;
  data_age_sessions: number;
  /** data_age_days above signals.max_data_age_days: this is the signal of as_of, not of today. */
  stale: boolean;
}
