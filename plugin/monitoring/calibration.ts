/**
 * Calibration: how often the signals were right, per confidence level and per grade, per symbol and
 * overall. This is what makes "confidence 4" mean something: a level is honest when its realised hit
 * rate rises with the level. Each bucket shows its Wilson interval and, beside it, the share of its sessions that
 * rose (the hit rate of always answering "up" there).
 * - by confidence: a hit is a correct direction (prob_up > 0.5 ↔ the price was up FORECAST_DAYS later);
 * - by grade: BUY/STRONG_BUY hit when the price rose, SELL/STRONG_SELL when it fell; HOLD, which takes
 *   no side, counts the forecast's direction like the confidence table does.
 */
import type { Grade } from '../signals/signal.js';
import { LIVE_SET } from '../signals/prediction-log.js';
import type { Store } from '../store/store.js';
import { wilsonInterval, type Interval } from '../skill/stats.js';

export interface CalibrationBucket {
  n: number;
  hits: number;
  hit_rate: number | null;
  /** Wilson 95% interval of the hit rate. */
  hit_rate_interval: Interval;
  /** Share of these sessions that rose: what always answering "up" would have hit on them. */
  up_rate: number | null;
  mean_actual_return: number | null;
}

export interface Calibration {
  by_confidence: Record<string, CalibrationBucket>;
  by_grade: Record<string, CalibrationBucket>;
}

export interface CalibrationReport {
  prediction_set: string;
  overall: Calibration;
  symbols: Record<string, Calibration>;
}

/** One realised prediction: what the signal said and what happened. */
export interface Outcome {
  symbol: string;
  confidence: number;
  grade: Grade;
  direction_correct: boolean;
  actual_direction: number;
  actual_magnitude: number;
}

const GRADES: readonly Grade[] = ['STRONG_BUY', 'BUY', 'HOLD', 'SELL', 'STRONG_SELL'];

function gradeHit(o: Outcome): boolean {
  if (o.grade === 'STRONG_BUY' || o.grade === 'BUY') return o.actual_direction === 1;
  if (o.grade === 'STRONG_SELL' || o.grade === 'SELL') return o.actual_direction === 0;
  return o.direction_correct;
}

function bucket(outcomes: readonly Outcome[], hit: (o: Outcome) => boolean): CalibrationBucket {
  const hits = outcomes.filter(hit).length;
  const n = outcomes.length;
  return {
    n,
    hits,
    hit_rate: n ? hits / n : null,
    hit_rate_interval: wilsonInterval(hits, n),
    up_rate: n ? outcomes.filter((o) => o.actual_direction === 1).length / n : null,
    mean_actual_return: n ? outcomes.reduce((sum, o) => sum + o.actual_magnitude, 0) / n : null,
  };
}

export function calibrate(outcomes: readonly Outcome[]): Calibration {
  return {
    by_confidence: Object.fromEntries([1, 2, 3, 4, 5].map((c) => [String(c), bucket(outcomes.filter((o) => o.confidence === c), (o) => o.direction_correct)])),
    by_grade: Object.fromEntries(GRADES.map((g) => [g, bucket(outcomes.filter((o) => o.grade === g), gradeHit)])),
  };
}

/** Every backfilled prediction of the set that carries its signal, joined with its outcome. */
export async function calibrationReport(store: Store, predictionSet = LIVE_SET, symbol?: string): Promise<CalibrationReport> {
  const records = await store.repos.accuracyRecord.find({ where: { prediction_set: predictionSet, ...(symbol && { symbol }) } });
  const predictions = await store.repos.predictionLog.find({ where: { prediction_set: predictionSet, ...(symbol && { symbol }) }, select: { id: true, signal_json: true } });
  const signals = new Map(predictions.map((p) => [p.id, p.signal_json as { confidence?: number; grade?: Grade } | null]));
  const outcomes: Outcome[] = [];
  for (const r of records) {
    const signal = signals.get(r.prediction_id);
    if (!signal?.confidence || !signal.grade) continue;
    outcomes.push({
      symbol: r.symbol,
      confidence: signal.confidence,
      grade: signal.grade,
      direction_correct: r.direction_correct,
      actual_direction: r.actual_direction,
      actual_magnitude: r.actual_magnitude,
    });
  }
  const symbols = [...new Set(outcomes.map((o) => o.symbol))].sort();
  return {
    prediction_set: predictionSet,
    overall: calibrate(outcomes),
    symbols: Object.fromEntries(symbols.map((s) => [s, calibrate(outcomes.filter((o) => o.symbol === s))])),
  };
}
