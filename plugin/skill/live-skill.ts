/**
 * Live skill of one symbol in a prediction set, from the accuracy backfill: what was served and what each
 * baseline said at the same sessions, as skill tables — for everything served, per source and per LSTM model
 * version — with the calibration (ECE of the raw and the calibrated probability, reliability bins) and the
 * realised coverage of the conformal levels against their nominal coverage.
 */
import { In } from 'typeorm';
import type { Signal } from '../signals/signal.js';
import type { AccuracyRecordRow, PredictionLogRow } from '../store/entities.js';
import type { Store } from '../store/store.js';
import { BASELINE_NAMES, type PointForecast } from './baselines.js';
import { expectedCalibrationError, reliabilityBins, type ReliabilityBin } from './calibration-map.js';
import { skillTable, type SkillTable } from './skill-table.js';
import { wilsonInterval, type Interval } from './stats.js';

export interface LiveSkillReport {
  prediction_set: string;
  symbol: string;
  /** Backfilled records, and those written before baselines were kept (left out of every table). Each table compares with the baselines all its records kept. */
  records: number;
  without_baselines: number;
  served: SkillTable | null;
  by_source: Record<string, SkillTable>;
  by_version: Record<string, SkillTable>;
  calibration: { n: number; ece_raw: number; ece_calibrated: number; reliability_raw: ReliabilityBin[]; reliability_calibrated: ReliabilityBin[] } | null;
  /** Records whose signal had conformal levels: how often the close fell between them, against the nominal coverage. */
  coverage: { n: number; covered: number; realised: number; interval: Interval; nominal: number } | null;
}

interface Scored {
  record: AccuracyRecordRow;
  prediction: PredictionLogRow;
}

/** The baselines every row kept (ARIMA is left out where `arima_baseline` was off). */
const keptBaselines = (rows: readonly Scored[]) => BASELINE_NAMES.filter((name) => rows.every(({ record }) => record.baselines_json?.[name]));

/** The rows as a table beside their baselines; a fallback tier's own rows leave out its own baseline (itself). */
function table(sample: string, rows: readonly Scored[]): SkillTable {
  const subject = {
    name: sample,
    forecasts: rows.map(({ prediction: p }): PointForecast => ({ prob_up: p.prob_up, direction: p.direction, expected_return: p.magnitude })),
  };
  const baselines = keptBaselines(rows).filter((name) => name !== sample).map((name) => ({
    name,
    forecasts: rows.map(({ record }) => record.baselines_json![name]!),
    answered: rows.filter(({ record }) => record.baselines_json![name]!.answered !== false).length,
  }));
  const outcomes = rows.map(({ record }) => ({ date: record.predict_date, direction: record.actual_direction, return: record.actual_magnitude }));
  return skillTable(sample, subject, baselines, outcomes);
}

function groupBy<K extends string>(rows: readonly Scored[], key: (row: Scored) => K | null): Record<string, SkillTable> {
  const groups = new Map<K, Scored[]>();
  for (const row of rows) {
    const k = key(row);
    if (k !== null) groups.set(k, [...(groups.get(k) ?? []), row]);
  }
  return Object.fromEntries([...groups].map(([k, group]) => [k, table(k, group)]));
}

export async function liveSkill(store: Store, symbol: string, predictionSet: string): Promise<LiveSkillReport> {
  const records = await store.repos.accuracyRecord.find({ where: { prediction_set: predictionSet, symbol }, order: { predict_date: 'ASC', id: 'ASC' } });
  const predictions = records.length ? await store.repos.predictionLog.find({ where: { id: In(records.map((r) => r.prediction_id)) } }) : [];
  const byId = new Map(predictions.map((p) => [p.id, p]));
  const complete = records.filter((r) => r.baselines_json?.majority);
  const rows = complete.map((record) => ({ record, prediction: byId.get(record.prediction_id)! }));
  const actual = rows.map(({ record }) => record.actual_direction);
  const raw = rows.map(({ prediction }) => (prediction.signal_json as Partial<Signal> | null)?.prob_up_raw ?? prediction.prob_up);
  const calibrated = rows.map(({ prediction }) => prediction.prob_up);
  const levelled = records.filter((r) => r.levels_covered !== null);
  const nominal = levelled.map((r) => (byId.get(r.prediction_id)?.signal_json as Partial<Signal> | null)?.levels_coverage ?? Number.NaN);
  const covered = levelled.filter((r) => r.levels_covered).length;
  return {
    prediction_set: predictionSet,
    symbol,
    records: records.length,
    without_baselines: records.length - complete.length,
    served: rows.length ? table('served', rows) : null,
    by_source: groupBy(rows, ({ record }) => record.source),
    by_version: groupBy(rows, ({ record }) => record.model_version_id || null),
    calibration: rows.length
      ? {
          n: rows.length,
          ece_raw: expectedCalibrationError(raw, actual),
          ece_calibrated: expectedCalibrationError(calibrated, actual),
          reliability_raw: reliabilityBins(raw, actual),
          reliability_calibrated: reliabilityBins(calibrated, actual),
        }
      : null,
    coverage: levelled.length
      ? { n: levelled.length, covered, realised: covered / levelled.length, interval: wilsonInterval(covered, levelled.length), nominal: nominal.reduce((a, b) => a + b, 0) / nominal.length }
      : null,
  };
}
