/**
 * Accuracy backfill: once the FORECAST_DAYS-th session after a prediction exists in the stored bars
 * (sessions, not calendar days), its outcome is known and an accuracy record is written. Predictions
 * whose future has not happened yet stay pending; running it again writes nothing twice.
 */
import type { DailyBar } from '../bar.js';
import type { Signal } from '../signals/signal.js';
import { baselinesAt } from '../skill/baselines.js';
import type { AccuracyRecordRow, BaselineForecasts, PredictionLogRow } from '../store/entities.js';
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

/** Whether the close lay between the signal's levels, when they came with a stated coverage (conformal). */
function levelsCovered(signal: Partial<Signal> | null, actualClose: number): boolean | null {
  if (!signal?.levels_coverage || signal.stop_loss === undefined || signal.take_profit === undefined) return null;
  return actualClose >= Math.min(signal.stop_loss, signal.take_profit) && actualClose <= Math.max(signal.stop_loss, signal.take_profit);
}

export function accuracyRecord(prediction: PredictionLogRow, actualDate: string, predictClose: number, actualClose: number, baselines: BaselineForecasts | null): NewRecord {
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
    baselines_json: baselines,
    levels_covered: levelsCovered(prediction.signal_json as Partial<Signal> | null, actualClose),
  };
}

/**
 * `update_accuracy(symbol, as_of)`: uses only bars dated up to `asOf` (default: every stored bar). Each record
 * also keeps what the baselines said at the prediction's session, from the bars up to it.
 */
export async function updateAccuracy(
  store: Store,
  symbol: string,
  asOf?: string,
  predictionSet = LIVE_SET,
  options: { arimaBaseline: boolean } = { arimaBaseline: true },
): Promise<BackfillResult> {
  const open: PredictionLogRow[] = await store.repos.predictionLog
    .createQueryBuilder('p')
    .where('p.symbol = :symbol AND p.prediction_set = :set', { symbol, set: predictionSet })
    .andWhere(`NOT EXISTS (SELECT 1 FROM lstm_accuracy_record a WHERE a.prediction_id = p.id)`)
    .orderBy('p.predict_date', 'ASC')
    .getMany();
  if (open.length === 0) return { symbol, written: [], pending: 0 };

  // The history before the first open prediction too: the baselines learn from it.
  const bars: DailyBar[] = await new BarStore(store).load(symbol, asOf ? { to: asOf } : {});
  const index = new Map(bars.map((b, i) => [b.date, i]));
  const due: NewRecord[] = [];
  let pending = 0;
  for (const prediction of open) {
    const t = index.get(prediction.predict_date);
    const later = t === undefined ? undefined : bars[t + FORECAST_DAYS];
    if (t === undefined || !later) {
      pending++;
      continue;
    }
    due.push(accuracyRecord(prediction, later.date, bars[t]!.close, later.close, await baselinesAt(bars, t, { arima: options.arimaBaseline })));
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
