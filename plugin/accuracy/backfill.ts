/**
 * Accuracy backfill: once the FORECAST_DAYS-th session after a prediction exists in the stored bars
 * (sessions, not calendar days), its outcome is known and an accuracy record is written. Predictions
 * whose future has not happened yet stay pending; running it again writes nothing twice.
 */
import { TradingCalendar } from '../calendar.js';
import type { AccuracyRecordRow, PredictionLogRow } from '../store/entities.js';
import { BarStore } from '../store/bar-store.js';
import type { Store } from '../store/store.js';
import { FORECAST_DAYS } from '../training/constants.js';
import { LIVE_SET } from '../signals/prediction-log.js';

export interface BackfillResult {
  symbol: string;
  written: AccuracyRecordRow[];
  /** Predictions whose FORECAST_DAYS-th session is not in the bars yet. */
  pending: number;
}

type NewRecord = Omit<AccuracyRecordRow, 'id' | 'created_at'>;

export function accuracyRecord(prediction: PredictionLogRow, actualDate: string, predictClose: number, actualClose: number): NewRecord {
  const actualMagnitude = actualClose / predictClose - 1;
  const actualDirection = actualClose > predictClose ? 1 : 0;
  return {
    prediction_id: prediction.id,
    prediction_set: prediction.prediction_set,
    symbol: prediction.symbol,
    predict_date: prediction.predict_date,
    actual_date: actualDate,
    predicted_direction: prediction.direction,
    actual_direction: actualDirection,
    predicted_magnitude: prediction.magnitude,
    actual_magnitude: actualMagnitude,
    error_magnitude: Math.abs(prediction.magnitude - actualMagnitude),
    direction_correct: prediction.direction === actualDirection,
    model_version_id: prediction.model_version_id,
    source: prediction.source,
  };
}

/** `update_accuracy(symbol, as_of)`: uses only bars dated up to `asOf` (default: every stored bar). */
export async function updateAccuracy(store: Store, symbol: string, asOf?: string, predictionSet = LIVE_SET): Promise<BackfillResult> {
  const open: PredictionLogRow[] = await store.repos.predictionLog
    .createQueryBuilder('p')
    .where('p.symbol = :symbol AND p.prediction_set = :set', { symbol, set: predictionSet })
    .andWhere(`NOT EXISTS (SELECT 1 FROM lstm_accuracy_record a WHERE a.prediction_id = p.id)`)
    .orderBy('p.predict_date', 'ASC')
    .getMany();
  if (open.length === 0) return { symbol, written: [], pending: 0 };

  const bars = await new BarStore(store).load(symbol, { from: open[0]!.predict_date, ...(asOf && { to: asOf }) });
  const calendar = TradingCalendar.fromBars(bars);
  const close = new Map(bars.map((b) => [b.date, b.close]));
  const due: NewRecord[] = [];
  let pending = 0;
  for (const prediction of open) {
    const actualDate = calendar.has(prediction.predict_date) ? calendar.offset(prediction.predict_date, FORECAST_DAYS) : undefined;
    if (!actualDate) {
      pending++;
      continue;
    }
    due.push(accuracyRecord(prediction, actualDate, close.get(prediction.predict_date)!, close.get(actualDate)!));
  }
  if (due.length > 0) {
    // One transaction; the unique prediction_id makes a concurrent second backfill fail instead of duplicating.
    await store.transaction(async (manager) => manager.getRepository(store.entities.accuracyRecord).insert(due));
  }
  const written = due.length
    ? await store.repos.accuracyRecord.find({ where: due.map((d) => ({ prediction_id: d.prediction_id })), order: { predict_date: 'ASC' } })
    : [];
  return { symbol, written, pending };
}
