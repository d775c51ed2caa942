/**
 * How a forecast becomes a graded signal: grade, confidence, stop-loss/take-profit and risk level.
 * Pure functions over the forecast and the symbol's bars up to its as-of session; every threshold is a
 * rule, configured under `signals` in the plugin configuration (manifest.json documents each key).
 */
import type { DailyBar } from '../bar.js';
import { resolveConfig } from '../config.js';
import { averageTrueRange, volatility } from '../features/indicators.js';
import type { Forecast } from '../forecasting/forecast.js';
import { FORECAST_DAYS } from '../training/constants.js';
import type { Grade, RiskLevel, Signal } from './signal.js';

export type Confidence = Signal['confidence'];
export type StopRule = 'atr' | 'fixed';

const ATR_PERIOD = 14;
const VOLATILITY_PERIOD = 20;
/** About a year of sessions: the history today's volatility is ranked in. */
const RISK_LOOKBACK = 252;

export interface GradingRules {
  /** BUY / STRONG_BUY need prob_up at or above these… */
  buyProb: number;
  strongBuyProb: number;
  /** …and an expected 5-day return at or above these (positive: the two must agree in sign). */
  buyReturn: number;
  strongBuyReturn: number;
  /** SELL / STRONG_SELL need prob_up at or below these… */
  sellProb: number;
  strongSellProb: number;
  /** …and an expected 5-day return at or below these (negative). */
  sellReturn: number;
  strongSellReturn: number;
  /** Increasing distances of prob_up from 0.5 at which confidence reaches 2, 3, 4 and 5. */
  confidenceEdges: readonly [number, number, number, number];
  /** Fallback sources are weaker than the LSTM: their confidence is capped. */
  maxConfidence: { arima: Confidence; technical: Confidence };
  stopRule: StopRule;
  atrStopMultiple: number;
  atrTargetMultiple: number;
  fixedStopPct: number;
  /** Percentile of today's volatility below which risk is LOW, and below which it is MEDIUM (else HIGH). */
  riskLowPercentile: number;
  riskHighPercentile: number;
}

/** The `signals` configuration as written in JSON; manifest.json describes every key and its default. */
export interface GradingRulesConfig {
  buy_prob: number;
  strong_buy_prob: number;
  sell_prob: number;
  strong_sell_prob: number;
  buy_return: number;
  strong_buy_return: number;
  sell_return: number;
  strong_sell_return: number;
  confidence_edges: number[];
  max_confidence_arima: number;
  max_confidence_technical: number;
  stop_rule: StopRule;
  atr_stop_multiple: number;
  atr_target_multiple: number;
  fixed_stop_pct: number;
  risk_low_percentile: number;
  risk_high_percentile: number;
}

/**
 * Converts a schema-valid `signals` configuration into rules, checking what the schema cannot express:
 * the order between keys. Throws one error naming every violated pair.
 */
export function gradingRulesFromConfig(config: GradingRulesConfig): GradingRules {
  const [e1, e2, e3, e4] = config.confidence_edges;
  const ordered: Array<[string, number | undefined, string, number | undefined]> = [
    ['buy_prob', config.buy_prob, 'strong_buy_prob', config.strong_buy_prob],
    ['strong_sell_prob', config.strong_sell_prob, 'sell_prob', config.sell_prob],
    ['buy_return', config.buy_return, 'strong_buy_return', config.strong_buy_return],
    ['strong_sell_return', config.strong_sell_return, 'sell_return', config.sell_return],
    ['risk_low_percentile', config.risk_low_percentile, 'risk_high_percentile', config.risk_high_percentile],
    ['confidence_edges[0]', e1, 'confidence_edges[1]', e2],
    ['confidence_edges[1]', e2, 'confidence_edges[2]', e3],
    ['confidence_edges[2]', e3, 'confidence_edges[3]', e4],
  ];
  const problems = ordered
    .filter(([, low, , high]) => !(low! <= high!))
    .map(([lowKey, low, highKey, high]) => `signals.${lowKey} (${low}) must not exceed signals.${highKey} (${high})`);
  if (problems.length > 0) throw new Error(`invalid lstm-signals configuration: ${problems.join('; ')}`);
  return {
    buyProb: config.buy_prob,
    strongBuyProb: config.strong_buy_prob,
    buyReturn: config.buy_return,
    strongBuyReturn: config.strong_buy_return,
    sellProb: config.sell_prob,
    strongSellProb: config.strong_sell_prob,
    sellReturn: config.sell_return,
    strongSellReturn: config.strong_sell_return,
    confidenceEdges: [e1!, e2!, e3!, e4!],
    maxConfidence: { arima: config.max_confidence_arima as Confidence, technical: config.max_confidence_technical as Confidence },
    stopRule: config.stop_rule,
    atrStopMultiple: config.atr_stop_multiple,
    atrTargetMultiple: config.atr_target_multiple,
    fixedStopPct: config.fixed_stop_pct,
    riskLowPercentile: config.risk_low_percentile,
    riskHighPercentile: config.risk_high_percentile,
  };
}

/** The defaults are the manifest's, so they are written down once. */
export const DEFAULT_GRADING_RULES: GradingRules = gradingRulesFromConfig(resolveConfig().signals);

/** A grade needs both its probability and its return threshold: the weaker of the two levels (0 none, 1 plain, 2 strong) counts. */
function gradeOf(probUp: number, return5d: number, rules: GradingRules): Grade {
  const up = Math.min(
    probUp >= rules.strongBuyProb ? 2 : probUp >= rules.buyProb ? 1 : 0,
    return5d >= rules.strongBuyReturn ? 2 : return5d >= rules.buyReturn ? 1 : 0,
  );
  const down = Math.min(
    probUp <= rules.strongSellProb ? 2 : probUp <= rules.sellProb ? 1 : 0,
    return5d <= rules.strongSellReturn ? 2 : return5d <= rules.sellReturn ? 1 : 0,
  );
  if (up > 0) return up === 2 ? 'STRONG_BUY' : 'BUY';
  if (down > 0) return down === 2 ? 'STRONG_SELL' : 'SELL';
  return 'HOLD';
}

/**
 * How sure the forecast is of its direction, whatever the grade: one level per confidence edge that
 * prob_up is at least that far from 0.5, one level less when the return head contradicts the direction
 * head, at most the source's cap, at least 1. Every step is monotone in conviction, so a higher level is
 * a claim of a likelier direction, and the calibration report holds each level to its realised hit rate.
 */
function confidenceOf(forecast: Forecast, rules: GradingRules): Confidence {
  const { probUp, direction, magnitude } = forecast;
  // Compared as probabilities (0.5 ± edge), not as |prob_up − 0.5|, so prob_up 0.6 is exactly edge 0.1.
  const reached = rules.confidenceEdges.filter((edge) => probUp >= 0.5 + edge || probUp <= 0.5 - edge).length;
  const contradicted = direction === 1 ? magnitude < 0 : magnitude > 0;
  const cap = forecast.source === 'lstm' ? 5 : rules.maxConfidence[forecast.source];
  return Math.max(1, Math.min(cap, 1 + reached - (contradicted ? 1 : 0))) as Confidence;
}

/**
 * Stop-loss and take-profit for a long (side +1) or a short (side −1). A level is never negative, and the
 * take-profit never lies on the losing side of the price (with the fixed rule a long's expected return
 * may be negative: then the take-profit is the price itself).
 */
function levelsOf(side: 1 | -1, price: number, return5d: number, bars: readonly DailyBar[], rules: GradingRules) {
  let stop: number;
  let target: number;
  if (rules.stopRule === 'atr') {
    const atr = averageTrueRange(bars, ATR_PERIOD)[bars.length - 1]!;
    stop = price - side * rules.atrStopMultiple * atr;
    target = price + side * rules.atrTargetMultiple * atr;
  } else {
    stop = price * (1 - side * rules.fixedStopPct);
    target = price * (1 + return5d);
  }
  return {
    stop_loss: Math.max(0, stop),
    take_profit: side === 1 ? Math.max(price, target) : Math.max(0, Math.min(price, target)),
  };
}

/**
 * The percentile rank (0..100) of the last bar's 20-session volatility among the volatilities of the last
 * 252 sessions including it: 100 · (values below + ½ · values equal) / count, the textbook definition, so
 * a volatility equal to all the others ranks 50. With less than a year of volatility behind it, the rank is
 * taken among the sessions there are. Needs at least 21 bars.
 */
export function volatilityPercentile(bars: readonly DailyBar[]): number {
  // Each volatility reads only its last 21 closes, so this slice gives exactly the full history's values.
  const closes = bars.slice(-(RISK_LOOKBACK + VOLATILITY_PERIOD)).map((b) => b.close);
  const history = volatility(closes, VOLATILITY_PERIOD).slice(-RISK_LOOKBACK).filter(Number.isFinite);
  const today = history[history.length - 1];
  if (today === undefined) throw new RangeError(`volatility needs at least ${VOLATILITY_PERIOD + 1} bars, got ${bars.length}`);
  const below = history.filter((v) => v < today).length;
  const equal = history.filter((v) => v === today).length;
  return (100 * (below + equal / 2)) / history.length;
}

function riskLevelOf(percentile: number, rules: GradingRules): RiskLevel {
  if (percentile < rules.riskLowPercentile) return 'LOW';
  return percentile < rules.riskHighPercentile ? 'MEDIUM' : 'HIGH';
}

/**
 * Grades a forecast into a signal. `bars` are the symbol's bars up to and including the forecast's as-of
 * session (at least 21, for the volatility); `technicalScore` (0..1) is carried into the signal.
 *
 * HOLD signals carry the levels of a long: a HOLD says "keep what you hold", and what a holder needs is
 * where to get out. Ratings work that way (the grades run STRONG_BUY..STRONG_SELL), and a short-leaning
 * HOLD is still no instruction to sell.
 */
export function gradeForecast(
  forecast: Forecast,
  bars: readonly DailyBar[],
  technicalScore: number,
  rules: GradingRules = DEFAULT_GRADING_RULES,
): Signal {
  const last = bars[bars.length - 1];
  if (last?.date !== forecast.asOf || last.symbol !== forecast.symbol) {
    const found = last ? `${last.symbol} ${last.date}` : 'no bars';
    throw new Error(`${forecast.symbol}: grading a forecast as of ${forecast.asOf} needs bars ending at ${forecast.symbol} ${forecast.asOf}, got ${found}`);
  }
  if (bars.length <= VOLATILITY_PERIOD) {
    throw new Error(`${forecast.symbol}: grading at ${forecast.asOf} needs at least ${VOLATILITY_PERIOD + 1} bars for the volatility, got ${bars.length}`);
  }
  if (!(technicalScore >= 0 && technicalScore <= 1)) throw new RangeError(`${forecast.symbol}: technical score ${technicalScore} is not in [0, 1]`);

  const grade = gradeOf(forecast.probUp, forecast.magnitude, rules);
  const action = grade === 'STRONG_BUY' || grade === 'BUY' ? 'BUY' : grade === 'HOLD' ? 'HOLD' : 'SELL';
  const [r1, r2, r3, r4, r5] = forecast.expectedReturns as [number, number, number, number, number];
  return {
    symbol: forecast.symbol,
    as_of: forecast.asOf,
    horizon: FORECAST_DAYS,
    action,
    grade,
    confidence: confidenceOf(forecast, rules),
    prob_up: forecast.probUp,
    expected_return_1d: r1,
    expected_return_2d: r2,
    expected_return_3d: r3,
    expected_return_4d: r4,
    expected_return_5d: r5,
    current_price: last.close,
    ...levelsOf(action === 'SELL' ? -1 : 1, last.close, forecast.magnitude, bars, rules),
    risk_level: riskLevelOf(volatilityPercentile(bars), rules),
    technical_score: technicalScore,
    volume: last.volume,
    source: forecast.source,
    model_version: forecast.modelVersion,
    fallback_reasons: [...forecast.fallbackReasons],
  };
}
