/**
 * How a forecast becomes a graded signal: grade, confidence, stop-loss/take-profit and risk level.
 * Pure functions over the forecast and the symbol's bars up to its as-of session; every threshold is a
 * rule, configured under `signals` in the plugin configuration (manifest.json documents each key).
 */
import type { DailyBar } from '../bar.js';
import { calendarDaysBetween, weekdaysBetween } from '../calendar.js';
import { resolveConfig } from '../config.js';
import { averageTrueRange, volatility } from '../features/indicators.js';
import type { Forecast } from '../forecasting/forecast.js';
import { conformalBounds } from '../skill/conformal.js';
import { FORECAST_DAYS } from '../training/constants.js';
import type { Grade, LevelsRule, RiskLevel, Signal, SignalSkill } from './signal.js';

export type Confidence = Signal['confidence'];
export type StopRule = LevelsRule;

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
  /** Fallback sources are weaker than the LSTM: their confidence is capped (the base rate makes no call: always 1). */
  maxConfidence: { arima: Confidence; technical: Confidence };
  stopRule: StopRule;
  /** Probability that the close FORECAST_DAYS sessions ahead lies between the conformal levels. */
  levelCoverage: number;
  /** Above this dissimilarity a signal is out of distribution, confidence 1. */
  maxDissimilarity: number;
  /** Older than this many calendar days on the host's clock, a signal is stale. */
  maxDataAgeDays: number;
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
  level_coverage: number;
  max_dissimilarity: number;
  max_data_age_days: number;
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
    levelCoverage: config.level_coverage,
    maxDissimilarity: config.max_dissimilarity,
    maxDataAgeDays: config.max_data_age_days,
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
 * How sure the forecast is of its direction, whatever the grade: one level per confidence edge that the
 * calibrated prob_up is at least that far from 0.5, one level less when the return head contradicts the
 * direction head, at most the source's cap, at least 1. A calibrated probability is the hit rate measured out
 * of fold for such forecasts, so a level is a measured hit rate, and the calibration report holds each level
 * to its realised one. The base rate makes no call, and a model far outside its training data has no
 * evidence: both are 1.
 */
function confidenceOf(forecast: Forecast, rules: GradingRules, outOfDistribution: boolean): Confidence {
  if (forecast.source === 'base_rate' || outOfDistribution) return 1;
  const { probUp, direction, magnitude } = forecast;
  // Compared as probabilities (0.5 ± edge), not as |prob_up − 0.5|, so prob_up 0.6 is exactly edge 0.1.
  const reached = rules.confidenceEdges.filter((edge) => probUp >= 0.5 + edge || probUp <= 0.5 - edge).length;
  const contradicted = direction === 1 ? magnitude < 0 : magnitude > 0;
  const cap = forecast.source === 'lstm' ? 5 : rules.maxConfidence[forecast.source];
  return Math.max(1, Math.min(cap, 1 + reached - (contradicted ? 1 : 0))) as Confidence;
}

/**
 * Stop-loss and take-profit for a long (side +1) or a short (side −1), and the rule that set them:
 * - conformal: the ends of the split-conformal interval of the horizon return around the forecast, from the
 *   source's out-of-fold scores in units of today's volatility scale (a source without them, or too few for the
 *   coverage, falls back to atr);
 * - atr: ATR multiples from the price; fixed: the original's percentage stop and expected-return target.
 * A level is never negative, the stop never lies on the winning side of the price and the take-profit never
 * on the losing side (with the fixed rule a long's expected return may be negative: then the take-profit is
 * the price itself). Widening a conformal interval to hold the price only raises its coverage.
 */
function levelsOf(side: 1 | -1, price: number, forecast: Forecast, bars: readonly DailyBar[], rules: GradingRules) {
  const conformal = rules.stopRule === 'conformal' ? forecast.conformal : undefined;
  const bounds = conformal && Number.isFinite(conformal.scale) ? conformalBounds([...conformal.scores], rules.levelCoverage) : null;
  let stop: number;
  let target: number;
  let rule: LevelsRule;
  if (bounds) {
    const low = price * (1 + forecast.magnitude + bounds.lower * conformal!.scale);
    const high = price * (1 + forecast.magnitude + bounds.upper * conformal!.scale);
    [stop, target] = side === 1 ? [low, high] : [high, low];
    rule = 'conformal';
  } else if (rules.stopRule === 'fixed') {
    stop = price * (1 - side * rules.fixedStopPct);
    target = price * (1 + forecast.magnitude);
    rule = 'fixed';
  } else {
    const atr = averageTrueRange(bars, ATR_PERIOD)[bars.length - 1]!;
    stop = price - side * rules.atrStopMultiple * atr;
    target = price + side * rules.atrTargetMultiple * atr;
    rule = 'atr';
  }
  return {
    stop_loss: Math.max(0, side === 1 ? Math.min(price, stop) : Math.max(price, stop)),
    take_profit: side === 1 ? Math.max(price, target) : Math.max(0, Math.min(price, target)),
    levels_rule: rule,
    levels_coverage: rule === 'conformal' ? rules.levelCoverage : null,
  };
}

/** What the signal says of its forecaster's skill. */
function signalSkill(forecast: Forecast): SignalSkill {
  if (forecast.source === 'base_rate') return { shown: false, summary: String(forecast.details.reason), measured: null };
  const { skill } = forecast;
  if (!skill) return { shown: null, summary: `the skill of ${forecast.source} on ${forecast.symbol} was never measured`, measured: null };
  const which = skill.measured_version_id && skill.measured_version_id !== forecast.modelVersion ? ` (measured on ${skill.measured_version_id})` : '';
  return { shown: skill.passed, summary: `${skill.summary}${which}`, measured: skill };
}

/** Calendar days and weekday sessions from `asOf` to the clock's date (UTC), never negative. */
export function dataAge(asOf: string, now: Date): { days: number; sessions: number } {
  const today = now.toISOString().slice(0, 10);
  return { days: Math.max(0, calendarDaysBetween(asOf, today)), sessions: weekdaysBetween(asOf, today) };
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
 * session (at least 21, for the volatility); `technicalScore` (0..1) is carried into the signal; `now` is the
 * host's clock (simulated in a backtest), which the data's age is measured on. A base-rate forecast makes no
 * call: HOLD.
 *
 * HOLD signals carry the levels of a long: a HOLD says "keep what you hold", and what a holder needs is
 * where to get out. Ratings work that way (the grades run STRONG_BUY..STRONG_SELL), and a short-leaning
 * HOLD is still no instruction to sell.
 */
export function gradeForecast(
  forecast: Forecast,
  bars: readonly DailyBar[],
  technicalScore: number,
  rules: GradingRules,
  now: Date,
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

  const grade = forecast.source === 'base_rate' ? 'HOLD' : gradeOf(forecast.probUp, forecast.magnitude, rules);
  const action = grade === 'STRONG_BUY' || grade === 'BUY' ? 'BUY' : grade === 'HOLD' ? 'HOLD' : 'SELL';
  const [r1, r2, r3, r4, r5] = forecast.expectedReturns as [number, number, number, number, number];
  const outOfDistribution = forecast.dissimilarity !== null && forecast.dissimilarity > rules.maxDissimilarity;
  const age = dataAge(forecast.asOf, now);
  return {
    symbol: forecast.symbol,
    as_of: forecast.asOf,
    horizon: FORECAST_DAYS,
    action,
    grade,
    confidence: confidenceOf(forecast, rules, outOfDistribution),
    prob_up: forecast.probUp,
    prob_up_raw: forecast.probUpRaw,
    expected_return_1d: r1,
    expected_return_2d: r2,
    expected_return_3d: r3,
    expected_return_4d: r4,
    expected_return_5d: r5,
    current_price: last.close,
    ...levelsOf(action === 'SELL' ? -1 : 1, last.close, forecast, bars, rules),
    risk_level: riskLevelOf(volatilityPercentile(bars), rules),
    technical_score: technicalScore,
    volume: last.volume,
    source: forecast.source,
    model_version: forecast.modelVersion,
    fallback_reasons: [...forecast.fallbackReasons],
    skill: signalSkill(forecast),
    dissimilarity: forecast.dissimilarity,
    out_of_distribution: outOfDistribution,
    data_age_days: age.days,
    data_age_sessions: age.sessions,
    stale: age.days > rules.maxDataAgeDays,
  };
}
