import { describe, expect, it } from 'vitest';
import type { DailyBar } from '../plugin/bar.js';
import { resolveConfig } from '../plugin/config.js';
import { averageTrueRange } from '../plugin/features/indicators.js';
import { makeForecast, type Forecast, type ForecastSource } from '../plugin/forecasting/forecast.js';
import {
  DEFAULT_GRADING_RULES,
  gradeForecast,
  gradingRulesFromConfig,
  volatilityPercentile,
  type GradingRulesConfig,
} from '../plugin/signals/grading.js';

const SYMBOL = 'TEST';

/**
 * 21 sessions: flat closes at 100 whose true range is high − low (2, 4, 2, 4, … for bars 1–14, then 3),
 * and a last bar that gaps up from 100 to a 110–117 range and closes at 112.
 */
const ROWS: Array<[string, number, number, number, number, number]> = [
  // date,       open, high,  low,  close, volume
  ['2024-01-02', 100, 101, 99, 100, 1000],
  ['2024-01-03', 100, 101, 99, 100, 1000],
  ['2024-01-04', 100, 102, 98, 100, 1000],
  ['2024-01-05', 100, 101, 99, 100, 1000],
  ['2024-01-08', 100, 102, 98, 100, 1000],
  ['2024-01-09', 100, 101, 99, 100, 1000],
  ['2024-01-10', 100, 102, 98, 100, 1000],
  ['2024-01-11', 100, 101, 99, 100, 1000],
  ['2024-01-12', 100, 102, 98, 100, 1000],
  ['2024-01-16', 100, 101, 99, 100, 1000],
  ['2024-01-17', 100, 102, 98, 100, 1000],
  ['2024-01-18', 100, 101, 99, 100, 1000],
  ['2024-01-19', 100, 102, 98, 100, 1000],
  ['2024-01-22', 100, 101, 99, 100, 1000],
  ['2024-01-23', 100, 102, 98, 100, 1000],
  ['2024-01-24', 100, 101.5, 98.5, 100, 1000],
  ['2024-01-25', 100, 101.5, 98.5, 100, 1000],
  ['2024-01-26', 100, 101.5, 98.5, 100, 1000],
  ['2024-01-29', 100, 101.5, 98.5, 100, 1000],
  ['2024-01-30', 100, 101.5, 98.5, 100, 1000],
  ['2024-01-31', 110, 117, 110, 112, 1500],
];
const BARS: DailyBar[] = ROWS.map(([date, open, high, low, close, volume]) => ({ symbol: SYMBOL, date, open, high, low, close, volume }));
const AS_OF = '2024-01-31';
const PRICE = 112;
/**
 * ATR14 by hand. True ranges of bars 1–14: 2, 4, 2, 4, …, 4 → the seed is their mean, 42 / 14 = 3.
 * Bars 15–19 have TR 3: Wilder's (3·13 + 3) / 14 keeps it at 3. Bar 20: TR = max(117 − 110,
 * |117 − 100|, |110 − 100|) = 17, so ATR = (3·13 + 17) / 14 = 56 / 14 = 4.
 */
const ATR14 = 4;

/** A forecast at AS_OF whose 1..5-day path rises evenly to `return5d`. */
function forecast(probUp: number, return5d: number, source: ForecastSource = 'lstm'): Forecast {
  const expectedReturns = [0.2, 0.4, 0.6, 0.8, 1].map((f) => f * return5d);
  return makeForecast({ symbol: SYMBOL, bars: BARS, asOf: AS_OF }, source, { probUp, expectedReturns });
}

/** Rules from a `signals` configuration, through the real schema (defaults filled in). */
function rules(signals: Partial<GradingRulesConfig>) {
  return gradingRulesFromConfig(resolveConfig({ signals }).signals);
}

/** The host's clock at the as-of session's evening: the signal is fresh. */
const NOW = new Date('2024-01-31T21:00:00Z');
const grade = (f: Forecast, r = DEFAULT_GRADING_RULES, now = NOW) => gradeForecast(f, BARS, 0.5, r, now);

describe('grading rules', () => {
  it('defaults to the manifest values', () => {
    expect(DEFAULT_GRADING_RULES).toEqual({
      buyProb: 0.55,
      strongBuyProb: 0.65,
      buyReturn: 0.005,
      strongBuyReturn: 0.02,
      sellProb: 0.45,
      strongSellProb: 0.35,
      sellReturn: -0.005,
      strongSellReturn: -0.02,
      confidenceEdges: [0.05, 0.1, 0.15, 0.2],
      maxConfidence: { arima: 3, technical: 2 },
      stopRule: 'conformal',
      levelCoverage: 0.8,
      maxDissimilarity: 1,
      maxDataAgeDays: 5,
      atrStopMultiple: 2,
      atrTargetMultiple: 3,
      fixedStopPct: 0.05,
      riskLowPercentile: 33,
      riskHighPercentile: 67,
    });
  });

  it('lives in the plugin configuration: a partial `signals` is completed with the defaults', () => {
    const config = resolveConfig({ signals: { stop_rule: 'fixed', buy_prob: 0.6 } });
    expect(config.signals).toMatchObject({ stop_rule: 'fixed', buy_prob: 0.6, strong_buy_prob: 0.65, fixed_stop_pct: 0.05 });
    expect(gradingRulesFromConfig(config.signals)).toEqual({ ...DEFAULT_GRADING_RULES, stopRule: 'fixed', buyProb: 0.6 });
  });

  it.each([
    [{ stop_rule: 'trailing' }, /signals\.stop_rule: must be equal to one of the allowed values/],
    [{ buy_prob: 0.5 }, /signals\.buy_prob: must be > 0\.5/],
    [{ sell_return: 0.01 }, /signals\.sell_return: must be < 0/],
    [{ strong_buy_return: 0.2 }, /signals\.strong_buy_return: must be <= 0\.15/],
    [{ confidence_edges: [0.1, 0.2, 0.3] }, /signals\.confidence_edges: must NOT have fewer than 4 items/],
    [{ max_confidence_arima: 6 }, /signals\.max_confidence_arima: must be <= 5/],
    [{ fixed_stop_pct: 1 }, /signals\.fixed_stop_pct: must be < 1/],
    [{ buy_probability: 0.6 }, /signals\.buy_probability: must NOT have additional properties/],
  ])('the schema refuses %j', (signals, message) => {
    expect(() => resolveConfig({ signals: signals as Partial<GradingRulesConfig> })).toThrow(message);
  });

  it('refuses thresholds out of order, naming every pair', () => {
    const config = resolveConfig({ signals: { buy_prob: 0.7, strong_sell_return: -0.001, confidence_edges: [0.05, 0.15, 0.1, 0.2] } }).signals;
    expect(() => gradingRulesFromConfig(config)).toThrow(
      'invalid lstm-signals configuration: signals.buy_prob (0.7) must not exceed signals.strong_buy_prob (0.65); ' +
        'signals.strong_sell_return (-0.001) must not exceed signals.sell_return (-0.005); ' +
        'signals.confidence_edges[1] (0.15) must not exceed signals.confidence_edges[2] (0.1)',
    );
    expect(() => gradingRulesFromConfig(resolveConfig({ signals: { risk_low_percentile: 70 } }).signals)).toThrow(
      'signals.risk_low_percentile (70) must not exceed signals.risk_high_percentile (67)',
    );
  });
});

describe('grade and action', () => {
  it.each([
    // prob_up thresholds, with a 5-day return strong enough for any grade
    [0.65, 0.03, 'STRONG_BUY', 'BUY'],
    [0.6499, 0.03, 'BUY', 'BUY'],
    [0.6501, 0.03, 'STRONG_BUY', 'BUY'],
    [0.55, 0.03, 'BUY', 'BUY'],
    [0.5499, 0.03, 'HOLD', 'HOLD'],
    [0.5501, 0.03, 'BUY', 'BUY'],
    [0.35, -0.03, 'STRONG_SELL', 'SELL'],
    [0.3501, -0.03, 'SELL', 'SELL'],
    [0.3499, -0.03, 'STRONG_SELL', 'SELL'],
    [0.45, -0.03, 'SELL', 'SELL'],
    [0.4501, -0.03, 'HOLD', 'HOLD'],
    [0.4499, -0.03, 'SELL', 'SELL'],
    // return thresholds, with a probability strong enough for any grade
    [0.7, 0.02, 'STRONG_BUY', 'BUY'],
    [0.7, 0.0199, 'BUY', 'BUY'],
    [0.7, 0.0201, 'STRONG_BUY', 'BUY'],
    [0.7, 0.005, 'BUY', 'BUY'],
    [0.7, 0.0049, 'HOLD', 'HOLD'],
    [0.7, 0.0051, 'BUY', 'BUY'],
    [0.3, -0.02, 'STRONG_SELL', 'SELL'],
    [0.3, -0.0199, 'SELL', 'SELL'],
    [0.3, -0.0201, 'STRONG_SELL', 'SELL'],
    [0.3, -0.005, 'SELL', 'SELL'],
    [0.3, -0.0049, 'HOLD', 'HOLD'],
    [0.3, -0.0051, 'SELL', 'SELL'],
    // the weaker of the two decides
    [0.6, 0.05, 'BUY', 'BUY'],
    [0.9, 0.01, 'BUY', 'BUY'],
    [0.4, -0.05, 'SELL', 'SELL'],
    [0.1, -0.01, 'SELL', 'SELL'],
    // probability and return must agree in sign
    [0.9, -0.05, 'HOLD', 'HOLD'],
    [0.1, 0.05, 'HOLD', 'HOLD'],
    [0.9, 0, 'HOLD', 'HOLD'],
    [0.1, 0, 'HOLD', 'HOLD'],
    [0.5, 0.05, 'HOLD', 'HOLD'],
  ] as const)('prob_up %f, 5-day return %f → %s (%s)', (probUp, return5d, expectedGrade, action) => {
    expect(grade(forecast(probUp, return5d))).toMatchObject({ grade: expectedGrade, action });
  });

  it('follows configured thresholds', () => {
    const strict = rules({ buy_prob: 0.6, buy_return: 0.01, strong_buy_prob: 0.8, strong_buy_return: 0.05 });
    expect(grade(forecast(0.59, 0.03), strict).grade).toBe('HOLD');
    expect(grade(forecast(0.6, 0.0099), strict).grade).toBe('HOLD');
    expect(grade(forecast(0.6, 0.01), strict).grade).toBe('BUY');
    expect(grade(forecast(0.79, 0.1), strict).grade).toBe('BUY');
    expect(grade(forecast(0.8, 0.05), strict).grade).toBe('STRONG_BUY');
  });

  it('grades every source by the same thresholds', () => {
    for (const source of ['lstm', 'arima', 'technical'] as const) {
      expect(grade(forecast(0.66, 0.021, source))).toMatchObject({ grade: 'STRONG_BUY', source });
    }
  });
});

describe('confidence', () => {
  it.each([
    // prob_up, 5-day return agreeing with it (none at 0.5)
    [0.5, 0, 1],
    [0.5499, 0.01, 1],
    [0.55, 0.01, 2],
    [0.5999, 0.01, 2],
    [0.6, 0.01, 3],
    [0.6499, 0.01, 3],
    [0.65, 0.01, 4],
    [0.6999, 0.01, 4],
    [0.7, 0.01, 5],
    [1, 0.01, 5],
    [0.4501, -0.01, 1],
    [0.45, -0.01, 2],
    [0.4, -0.01, 3],
    [0.35, -0.01, 4],
    [0.3001, -0.01, 4],
    [0.3, -0.01, 5],
    [0, -0.01, 5],
  ] as const)('prob_up %f, return %f → %i', (probUp, return5d, confidence) => {
    expect(grade(forecast(probUp, return5d)).confidence).toBe(confidence);
  });

  it.each([
    // a return head contradicting the direction head costs one level, never below 1
    [0.7, -0.01, 4],
    [0.65, -0.001, 3],
    [0.55, -0.01, 1],
    [0.52, -0.01, 1],
    [0.3, 0.01, 4],
    [0.45, 0.01, 1],
    // a zero return contradicts nothing
    [0.7, 0, 5],
    [0.3, 0, 5],
  ] as const)('prob_up %f with return %f → %i', (probUp, return5d, confidence) => {
    expect(grade(forecast(probUp, return5d)).confidence).toBe(confidence);
  });

  it.each([
    ['lstm', 0.7, 0.01, 5],
    ['arima', 0.7, 0.01, 3],
    ['arima', 0.3, -0.01, 3],
    ['arima', 0.6, 0.01, 3],
    ['arima', 0.55, 0.01, 2],
    ['arima', 0.7, -0.01, 3],
    ['arima', 0.6, -0.01, 2],
    ['technical', 0.7, 0.01, 2],
    ['technical', 0.55, 0.01, 2],
    ['technical', 0.5499, 0.01, 1],
    ['technical', 0.55, -0.01, 1],
  ] as const)('a %s forecast at prob_up %f, return %f → %i', (source, probUp, return5d, confidence) => {
    expect(grade(forecast(probUp, return5d, source)).confidence).toBe(confidence);
  });

  it('follows configured edges and caps', () => {
    const r = rules({ confidence_edges: [0.01, 0.02, 0.03, 0.04], max_confidence_arima: 5, max_confidence_technical: 1 });
    expect(grade(forecast(0.53, 0.01), r).confidence).toBe(4);
    expect(grade(forecast(0.5399, 0.01), r).confidence).toBe(4);
    expect(grade(forecast(0.54, 0.01), r).confidence).toBe(5);
    expect(grade(forecast(0.6, 0.01, 'arima'), r).confidence).toBe(5);
    expect(grade(forecast(0.6, 0.01, 'technical'), r).confidence).toBe(1);
  });
});

describe('the ±15% clamp reaches the signal', () => {
  it('a raw 40% rise becomes 15%, and the fixed rule takes profit at +15%', () => {
    const raw = makeForecast({ symbol: SYMBOL, bars: BARS, asOf: AS_OF }, 'lstm', { probUp: 0.8, expectedReturns: [0.1, 0.2, 0.3, 0.4, 0.4] });
    const signal = grade(raw, rules({ stop_rule: 'fixed' }));
    expect(signal).toMatchObject({
      grade: 'STRONG_BUY',
      expected_return_1d: 0.1,
      expected_return_2d: 0.15,
      expected_return_3d: 0.15,
      expected_return_4d: 0.15,
      expected_return_5d: 0.15,
    });
    expect(signal.take_profit).toBeCloseTo(128.8, 12); // 112 · 1.15
  });

  it('a raw 40% fall becomes −15%, and the fixed rule covers a short at −15%', () => {
    const raw = makeForecast({ symbol: SYMBOL, bars: BARS, asOf: AS_OF }, 'lstm', { probUp: 0.2, expectedReturns: [-0.4, -0.4, -0.4, -0.4, -0.4] });
    const signal = grade(raw, rules({ stop_rule: 'fixed' }));
    expect(signal).toMatchObject({ grade: 'STRONG_SELL', expected_return_1d: -0.15, expected_return_5d: -0.15 });
    expect(signal.take_profit).toBeCloseTo(95.2, 12); // 112 · 0.85
  });
});

describe('stop-loss and take-profit', () => {
  it('the hand-computed ATR14 is what the indicator gives', () => {
    expect(averageTrueRange(BARS, 14)[20]).toBe(ATR14);
  });

  it.each([
    // ATR rule (default): k_stop 2, k_target 3, ATR 4, price 112
    ['BUY', 0.6, 0.01, PRICE - 2 * ATR14, PRICE + 3 * ATR14], // 104, 124
    ['SELL', 0.4, -0.01, PRICE + 2 * ATR14, PRICE - 3 * ATR14], // 120, 100
    ['HOLD', 0.5, 0.003, 104, 124], // a HOLD carries the long's levels…
    ['HOLD', 0.4, 0.003, 104, 124], // …even when it leans short
  ] as const)('atr: %s at prob_up %f, return %f → stop %f, take-profit %f', (action, probUp, return5d, stop, target) => {
    expect(grade(forecast(probUp, return5d))).toMatchObject({ action, current_price: PRICE, stop_loss: stop, take_profit: target });
  });

  it.each([
    // fixed rule: stop 5% away, take-profit at the expected 5-day return
    ['BUY', 0.6, 0.012, 106.4, 113.344], // 112 · 0.95, 112 · 1.012
    ['SELL', 0.4, -0.012, 117.6, 110.656], // 112 · 1.05, 112 · 0.988
    ['HOLD', 0.5, 0.003, 106.4, 112.336], // as a long: 112 · 0.95, 112 · 1.003
    ['HOLD', 0.5, -0.003, 106.4, 112], // a long's take-profit is never below the price
  ] as const)('fixed: %s at prob_up %f, return %f → stop %f, take-profit %f', (action, probUp, return5d, stop, target) => {
    const signal = grade(forecast(probUp, return5d), rules({ stop_rule: 'fixed' }));
    expect(signal.action).toBe(action);
    expect(signal.stop_loss).toBeCloseTo(stop, 12);
    expect(signal.take_profit).toBeCloseTo(target, 12);
  });

  it('follows configured multiples and percentages', () => {
    expect(grade(forecast(0.6, 0.01), rules({ atr_stop_multiple: 1.5, atr_target_multiple: 2.5 }))).toMatchObject({ stop_loss: 106, take_profit: 122 });
    const fixed = grade(forecast(0.4, -0.01), rules({ stop_rule: 'fixed', fixed_stop_pct: 0.1 }));
    expect(fixed.stop_loss).toBeCloseTo(123.2, 12); // 112 · 1.1
  });

  it('never gives a negative level', () => {
    const wide = rules({ atr_stop_multiple: 30, atr_target_multiple: 30 }); // 30 · ATR 4 = 120 > 112
    expect(grade(forecast(0.6, 0.01), wide)).toMatchObject({ stop_loss: 0, take_profit: 232 });
    expect(grade(forecast(0.4, -0.01), wide)).toMatchObject({ stop_loss: 232, take_profit: 0 });
  });
});

/**
 * 272 bars (252 sessions of volatility): turbulent returns alternating ±5% (ending on a fall), then
 * `quiet + 19` tiny rising returns 1e-6·j². A window touching a ±5% session has a volatility above 1%;
 * a window entirely in the quiet tail has one below 0.3%, and it grows every session (the squares spread
 * out). So the last bar's volatility is the highest of the `quiet + 1` quiet ones and below all the
 * others: `quiet` values lie below it, none equals it, and its percentile is 100 · (quiet + ½) / 252.
 */
function turbulentThenQuiet(quiet: number, sessions = 272): DailyBar[] {
  const firstQuiet = sessions - 1 - 19 - quiet;
  const closes = [100];
  for (let t = 1; t < sessions; t++) {
    const r = t < firstQuiet ? ((firstQuiet - t) % 2 === 1 ? -0.05 : 0.05) : 1e-6 * (t - firstQuiet + 1) ** 2;
    closes.push(closes[t - 1]! * Math.exp(r));
  }
  return barsFromCloses(closes);
}

/** One bar per calendar day from 2020-01-01, open = high = low = close. */
function barsFromCloses(closes: readonly number[]): DailyBar[] {
  const start = Date.UTC(2020, 0, 1);
  return closes.map((close, i) => ({
    symbol: SYMBOL,
    date: new Date(start + i * 86_400_000).toISOString().slice(0, 10),
    open: close,
    high: close,
    low: close,
    close,
    volume: 1000,
  }));
}

function gradeAt(bars: DailyBar[], r = DEFAULT_GRADING_RULES) {
  const last = bars[bars.length - 1]!;
  const f = makeForecast({ symbol: SYMBOL, bars, asOf: last.date }, 'lstm', { probUp: 0.6, expectedReturns: [0, 0, 0, 0, 0.01] });
  return gradeForecast(f, bars, 0.5, r, new Date(`${last.date}T21:00:00Z`));
}

describe('risk level', () => {
  it.each([
    [50, 'LOW'],
    [82, 'LOW'],
    [83, 'MEDIUM'],
    [125, 'MEDIUM'],
    [168, 'MEDIUM'],
    [169, 'HIGH'],
    [200, 'HIGH'],
  ] as const)('%i quieter sessions of 252 → %s', (quiet, level) => {
    const bars = turbulentThenQuiet(quiet);
    expect(volatilityPercentile(bars)).toBe((100 * (quiet + 0.5)) / 252); // 82 → 32.74, 83 → 33.13, 168 → 66.87, 169 → 67.26
    expect(gradeAt(bars).risk_level).toBe(level);
  });

  it('ranks within the last 252 sessions only', () => {
    expect(volatilityPercentile(turbulentThenQuiet(125, 600))).toBe((100 * 125.5) / 252);
  });

  it('with less than a year of history, ranks among the sessions there are', () => {
    // 101 bars: volatility from bar 20 on, 81 values
    expect(volatilityPercentile(turbulentThenQuiet(30, 101))).toBe((100 * 30.5) / 81);
    expect(volatilityPercentile(BARS)).toBe(50); // a lone value
  });

  it('a volatility equal to every other one is the 50th percentile', () => {
    const flat = barsFromCloses(new Array<number>(60).fill(100)); // 40 volatilities, all exactly 0
    expect(volatilityPercentile(flat)).toBe(50);
    expect(gradeAt(flat).risk_level).toBe('MEDIUM');
  });

  it('a percentile exactly at a threshold belongs to the band above it', () => {
    const bars = turbulentThenQuiet(125);
    const exact = (100 * 125.5) / 252;
    expect(gradeAt(bars, rules({ risk_low_percentile: exact })).risk_level).toBe('MEDIUM');
    expect(gradeAt(bars, rules({ risk_low_percentile: 10, risk_high_percentile: exact })).risk_level).toBe('HIGH');
  });
});

describe('the signal', () => {
  it('carries the forecast, the last bar and the technical score', () => {
    const f: Forecast = {
      ...makeForecast({ symbol: SYMBOL, bars: BARS, asOf: AS_OF }, 'arima', {
        probUp: 0.62,
        expectedReturns: [0.002, 0.004, 0.006, 0.009, 0.012],
        details: { order: [1, 0, 1] },
      }),
      fallbackReasons: [{ source: 'lstm', reason: 'no model' }],
    };
    expect(gradeForecast(f, BARS, 0.73, DEFAULT_GRADING_RULES, NOW)).toEqual({
      symbol: SYMBOL,
      as_of: AS_OF,
      horizon: 5,
      action: 'BUY',
      grade: 'BUY',
      confidence: 3,
      prob_up: 0.62,
      prob_up_raw: 0.62,
      expected_return_1d: 0.002,
      expected_return_2d: 0.004,
      expected_return_3d: 0.006,
      expected_return_4d: 0.009,
      expected_return_5d: 0.012,
      current_price: 112,
      stop_loss: 104,
      take_profit: 124,
      // ARIMA has no out-of-fold residuals: the conformal rule falls back to ATR, with no stated coverage.
      levels_rule: 'atr',
      levels_coverage: null,
      risk_level: 'MEDIUM',
      technical_score: 0.73,
      volume: 1500,
      source: 'arima',
      model_version: null,
      fallback_reasons: [{ source: 'lstm', reason: 'no model' }],
      skill: { shown: null, summary: 'the skill of arima on TEST was never measured', measured: null },
      dissimilarity: null,
      out_of_distribution: false,
      data_age_days: 0,
      data_age_sessions: 0,
      stale: false,
    });
  });

  it('refuses bars that do not end at the as-of session', () => {
    expect(() => gradeForecast(forecast(0.6, 0.01), BARS.slice(0, -1), 0.5, DEFAULT_GRADING_RULES, NOW)).toThrow(
      'TEST: grading a forecast as of 2024-01-31 needs bars ending at TEST 2024-01-31, got TEST 2024-01-30',
    );
    const other = BARS.map((b) => ({ ...b, symbol: 'OTHER' }));
    expect(() => gradeForecast(forecast(0.6, 0.01), other, 0.5, DEFAULT_GRADING_RULES, NOW)).toThrow('got OTHER 2024-01-31');
    expect(() => gradeForecast(forecast(0.6, 0.01), [], 0.5, DEFAULT_GRADING_RULES, NOW)).toThrow('got no bars');
  });

  it('refuses fewer than 21 bars and a technical score outside [0, 1]', () => {
    expect(() => gradeForecast(forecast(0.6, 0.01), BARS.slice(1), 0.5, DEFAULT_GRADING_RULES, NOW)).toThrow(
      'TEST: grading at 2024-01-31 needs at least 21 bars for the volatility, got 20',
    );
    expect(() => gradeForecast(forecast(0.6, 0.01), BARS, 1.2, DEFAULT_GRADING_RULES, NOW)).toThrow('TEST: technical score 1.2 is not in [0, 1]');
  });
});

describe('conformal levels', () => {
  // 19 out-of-fold scores −4.5, −4, …, +4.5 in units of a volatility scale of 0.02, i.e. returns of −9% … +9%.
  // Coverage 0.8 → α 0.2: lower = the floor(20·0.1) = 2nd smallest = −4 (−8%), upper = the ceil(20·0.9) = 18th smallest = +4 (+8%).
  const scores = Array.from({ length: 19 }, (_, i) => (i - 9) / 2);
  const withResiduals = (probUp: number, return5d: number) => ({ ...forecast(probUp, return5d), conformal: { scores, scale: 0.02 } });

  it('a long: the interval of the 5-session return around the forecast, in price, with its stated coverage', () => {
    const signal = grade(withResiduals(0.6, 0.01));
    expect(signal).toMatchObject({ action: 'BUY', levels_rule: 'conformal', levels_coverage: 0.8 });
    expect(signal.stop_loss).toBeCloseTo(112 * (1 + 0.01 - 0.08), 12); // 104.16
    expect(signal.take_profit).toBeCloseTo(112 * (1 + 0.01 + 0.08), 12); // 122.08
  });

  it('a short: the stop at the top of the interval, the target at the bottom', () => {
    const signal = grade(withResiduals(0.4, -0.01));
    expect(signal).toMatchObject({ action: 'SELL', levels_rule: 'conformal', levels_coverage: 0.8 });
    expect(signal.stop_loss).toBeCloseTo(112 * (1 - 0.01 + 0.08), 12);
    expect(signal.take_profit).toBeCloseTo(112 * (1 - 0.01 - 0.08), 12);
  });

  it('follows the configured coverage, and widens an interval that leaves out the price', () => {
    // Coverage 0.5 → α 0.5: lower = floor(20·0.25) = 5th smallest = −2.5 (−5%), upper = ceil(20·0.75) = 15th = +2.5 (+5%).
    const half = grade(withResiduals(0.6, 0.01), rules({ level_coverage: 0.5 }));
    expect(half.stop_loss).toBeCloseTo(112 * 0.96, 12);
    expect(half.take_profit).toBeCloseTo(112 * 1.06, 12);
    // A forecast of +9%: the interval [+1%, +17%] lies above the price; the long's stop is held at the price.
    const above = grade(withResiduals(0.7, 0.09));
    expect(above.stop_loss).toBe(112);
    expect(above.take_profit).toBeCloseTo(112 * 1.17, 12);
  });

  it('widens with today’s volatility: the same scores at twice the scale give twice the distance', () => {
    const turbulent = grade({ ...forecast(0.6, 0.01), conformal: { scores, scale: 0.04 } });
    expect(turbulent.stop_loss).toBeCloseTo(112 * (1 + 0.01 - 0.16), 12);
    expect(turbulent.take_profit).toBeCloseTo(112 * (1 + 0.01 + 0.16), 12);
    // A scale that cannot be measured (too few bars): no interval, ATR levels.
    expect(grade({ ...forecast(0.6, 0.01), conformal: { scores, scale: Number.NaN } })).toMatchObject({ levels_rule: 'atr', levels_coverage: null });
  });

  it('too few residuals for the coverage: ATR levels, no stated coverage', () => {
    // 19 residuals at coverage 0.95: floor(20·0.025) = 0 < 1 → no interval.
    const signal = grade(withResiduals(0.6, 0.01), rules({ level_coverage: 0.95 }));
    expect(signal).toMatchObject({ levels_rule: 'atr', levels_coverage: null, stop_loss: 104, take_profit: 124 });
  });

  it('atr and fixed stay available: the rule used is named', () => {
    expect(grade(withResiduals(0.6, 0.01), rules({ stop_rule: 'atr' }))).toMatchObject({ levels_rule: 'atr', stop_loss: 104, take_profit: 124 });
    expect(grade(withResiduals(0.6, 0.01), rules({ stop_rule: 'fixed' }))).toMatchObject({ levels_rule: 'fixed', levels_coverage: null });
  });
});

describe('out of distribution, staleness, the base rate and skill', () => {
  it('a dissimilarity above max_dissimilarity flags the signal and caps its confidence at 1', () => {
    const f = (dissimilarity: number) => ({ ...forecast(0.75, 0.03), dissimilarity });
    expect(grade(f(1))).toMatchObject({ confidence: 5, dissimilarity: 1, out_of_distribution: false });
    expect(grade(f(1.0001))).toMatchObject({ grade: 'STRONG_BUY', confidence: 1, out_of_distribution: true });
    expect(grade(f(1.5), rules({ max_dissimilarity: 2 }))).toMatchObject({ confidence: 5, out_of_distribution: false });
  });

  it('measures the data’s age on the host’s clock: calendar days and the weekday sessions in between', () => {
    // 2024-01-31 (Wed) to 2024-02-10 (Sat): 10 days; weekdays strictly between: Feb 1, 2, 5, 6, 7, 8, 9 = 7.
    expect(grade(forecast(0.6, 0.01), DEFAULT_GRADING_RULES, new Date('2024-02-10T09:00:00Z'))).toMatchObject({ data_age_days: 10, data_age_sessions: 7, stale: true });
    // 2024-02-05 (Mon): 5 days, Feb 1 and 2 in between; 5 is not above max_data_age_days 5.
    expect(grade(forecast(0.6, 0.01), DEFAULT_GRADING_RULES, new Date('2024-02-05T09:00:00Z'))).toMatchObject({ data_age_days: 5, data_age_sessions: 2, stale: false });
    expect(grade(forecast(0.6, 0.01), rules({ max_data_age_days: 4 }), new Date('2024-02-05T09:00:00Z')).stale).toBe(true);
    // A clock behind the data is age 0, never negative.
    expect(grade(forecast(0.6, 0.01), DEFAULT_GRADING_RULES, new Date('2024-01-01T00:00:00Z'))).toMatchObject({ data_age_days: 0, data_age_sessions: 0 });
  });

  it('the base rate makes no call: HOLD, confidence 1, and it says why', () => {
    const f = makeForecast({ symbol: SYMBOL, bars: BARS, asOf: AS_OF }, 'base_rate', {
      probUp: 0.62,
      expectedReturns: [0.001, 0.002, 0.003, 0.004, 0.005],
      details: { reason: 'no forecaster has shown skill on TEST' },
    });
    expect(grade(f)).toMatchObject({ action: 'HOLD', grade: 'HOLD', confidence: 1, prob_up: 0.62, skill: { shown: false, summary: 'no forecaster has shown skill on TEST', measured: null } });
  });

  it('carries the measured skill, and names the version measured when it is not the one that answered', () => {
    const measured = {
      measured_version_id: 'TEST-parent',
      sample: 'holdout',
      from: '2023-10-02',
      to: '2023-12-29',
      n: 63,
      hit_rate: 0.6,
      hit_rate_interval: { low: 0.477, high: 0.711 },
      best_baseline: { name: 'majority', hit_rate: 0.55, hit_rate_interval: { low: 0.427, high: 0.667 } },
      brier_skill: 0.05,
      reference_base_rate: 0.55,
      ic: 0.1,
      ece: { raw: 0.08, calibrated: 0.04 },
      discrimination: { auc: 0.62, interval: { low: 0.51, high: 0.73 }, p_value: 0.02 },
      passed: true,
      reason: 'shown skill: …',
      summary: 'holdout 2023-10-02..2023-12-29: hit 60.0% [47.7%, 71.1%] of 63 vs best baseline majority 55.0%; Brier skill +0.050 against the base rate 55.0%; IC +0.100',
    };
    const f = { ...forecast(0.6, 0.01), modelVersion: 'TEST-child', skill: measured };
    expect(grade(f).skill).toEqual({ shown: true, summary: `${measured.summary} (measured on TEST-parent)`, measured });
    expect(grade({ ...f, modelVersion: 'TEST-parent' }).skill.summary).toBe(measured.summary);
  });
});
