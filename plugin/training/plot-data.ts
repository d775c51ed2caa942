/**
 * Predicted vs actual for the last 1–3 years, with the original system's date conventions:
 * - the direction and 5-day-return series are dated on the window's as-of session (when the forecast
 *   was made: `dates`);
 * - the price series is dated on the session the forecast is realised (`dates_price`, FORECAST_DAYS
 *   sessions later): actual close then, against the as-of close × (1 + predicted return).
 * So the same index k sits about five sessions further right on the price chart, by design.
 */
import type { DailyBar } from '../bar.js';
import { buildFeatureFrame } from '../features/frame.js';
import { buildSamples } from '../features/windows.js';
import type { LstmModel } from '../model/lstm-model.js';

export interface PlotData {
  symbol: string;
  version_id: string;
  years: number;
  /** Last as-of session whose label the model saw in training: points up to it are in-sample. */
  trained_through: string;
  dates: string[];
  actual_direction: number[];
  predicted_direction: number[];
  prob_up: number[];
  actual_return: number[];
  predicted_return: number[];
  dates_price: string[];
  actual_price: number[];
  predicted_price: number[];
}

/** Subtracts whole calendar years from a `YYYY-MM-DD` date (Feb 29 → Feb 28). */
function yearsBefore(date: string, years: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = Math.min(d, new Date(Date.UTC(y - years, m, 0)).getUTCDate());
  return `${String(y - years).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function plotData(model: LstmModel, versionId: string, bars: readonly DailyBar[], years: number): PlotData {
  if (![1, 2, 3].includes(years)) throw new RangeError(`years must be 1, 2 or 3, got ${years}`);
  const frame = buildFeatureFrame(bars, model.metadata.featureNames);
  const samples = buildSamples(frame, { seqLen: model.metadata.seqLen, horizon: model.metadata.horizon });
  const lastRealised = frame.dates[frame.dates.length - 1]!;
  const from = yearsBefore(lastRealised, years);
  const indices: number[] = [];
  for (let i = 0; i < samples.labeled; i++) if (samples.asOf[i]! >= from) indices.push(i);
  const p = model.predict(samples, indices);
  const horizon = model.metadata.horizon;
  const asOfClose = indices.map((i) => frame.close[samples.endIndex[i]!]!);
  return {
    symbol: model.metadata.symbol,
    version_id: versionId,
    years,
    trained_through: model.metadata.trainedThrough,
    dates: indices.map((i) => samples.asOf[i]!),
    actual_direction: indices.map((i) => samples.direction[i]!),
    predicted_direction: p.direction,
    prob_up: p.probUp,
    actual_return: indices.map((i) => samples.magnitude[i]!),
    predicted_return: p.magnitude,
    dates_price: indices.map((i) => frame.dates[samples.endIndex[i]! + horizon]!),
    actual_price: indices.map((i) => frame.close[samples.endIndex[i]! + horizon]!),
    predicted_price: asOfClose.map((close, k) => close * (1 + p.magnitude[k]!)),
  };
}
