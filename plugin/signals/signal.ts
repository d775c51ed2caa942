/** A graded trading signal: the value object strategies subscribe to and the weekly files carry. */
import type { ForecastSource } from '../forecasting/forecast.js';

export type Action = 'BUY' | 'SELL' | 'HOLD';
export type Grade = 'STRONG_BUY' | 'BUY' | 'HOLD' | 'SELL' | 'STRONG_SELL';
export type RiskLevel = 'LOW' | 'MEDIUM' | 'HIGH';

export interface Signal {
  symbol: string;
  /** The session whose close the signal was computed after. */
  as_of: string;
  /** Sessions the forecast looks ahead. */
  horizon: number;
  action: Action;
  grade: Grade;
  /** 1 (weakest) .. 5 (strongest); its realised hit rate is reported per level. */
  confidence: 1 | 2 | 3 | 4 | 5;
  prob_up: number;
  expected_return_1d: number;
  expected_return_2d: number;
  expected_return_3d: number;
  expected_return_4d: number;
  expected_return_5d: number;
  current_price: number;
  stop_loss: number;
  take_profit: number;
  risk_level: RiskLevel;
  /** 0 (bearish) .. 1 (bullish) composite of the technical indicators at the as-of session. */
  technical_score: number;
  volume: number;
  source: ForecastSource;
  model_version: string | null;
  /** For a fallback forecast: why the sources above it could not answer. */
  fallback_reasons: Array<{ source: ForecastSource; reason: string }>;
}
