/**
 * The current model on a candidate's holdout, judged only where it is out of sample. A current model that
 * has been fine-tuned on the holdout's sessions (incremental training every week) would otherwise win the
 * comparison by memory, and no candidate would ever replace it.
 *
 * Per holdout session t:
 * - t more than FORECAST_DAYS sessions after the current model's last training window (`trainedThrough`,
 *   which fine-tunes move forward): the model's own forecast, as for the candidate — no label it was
 *   trained on reaches into t's;
 * - otherwise the LSTM prediction the prediction set logged at t (the first, if several): made at t by the
 *   model current then, so point-in-time by construction;
 * - neither: the session is left out of the comparison, for both models.
 */
import { In } from 'typeorm';
import type { DailyBar } from '../bar.js';
import { LstmModel, type ModelMetadata } from '../model/lstm-model.js';
import { ModelRegistry } from '../registry/model-registry.js';
import type { Store } from '../store/store.js';
import { FORECAST_DAYS } from './constants.js';
import { buildDataset } from './fit.js';

export interface IncumbentScore {
  version_id: string;
  trained_through: string;
  /** Positions in the holdout (0-based) where the current model could be judged, ascending. */
  positions: number[];
  direction: number[];
  magnitude: number[];
  /** Sessions scored with the model's own forecast, with a logged prediction, and left out. */
  own: number;
  logged: number;
  excluded: number;
}

export interface IncumbentRequest {
  symbol: string;
  /** The symbol's bars, as the trainer has them. */
  bars: readonly DailyBar[];
  range: { start?: string; end?: string };
  /** The candidate's holdout sessions, ascending. */
  holdoutDates: readonly string[];
  /** Where this symbol's served predictions are logged. */
  predictionSet: string;
}

/** The current model's scores, or why there are none (no current model; one that cannot be loaded). */
export async function scoreIncumbent(store: Store, request: IncumbentRequest): Promise<{ score?: IncumbentScore; reason: string }> {
  const registry = new ModelRegistry(store);
  const current = await registry.current(request.symbol);
  if (!current) return { reason: 'first model for this symbol' };
  let model: LstmModel;
  try {
    const { version, blob } = await registry.loadBlob(current.version_id);
    model = await LstmModel.fromBlob(blob, version.metadata_json as unknown as ModelMetadata);
  } catch (error) {
    return { reason: `the current model ${current.version_id} cannot be used (${error instanceof Error ? error.message : String(error)}): replaced` };
  }
  try {
    const trainedThrough = model.metadata.trainedThrough;
    // Sessions after trainedThrough, counted on the bar calendar.
    const sessionsAfter = (date: string) => request.bars.filter((b) => b.date > trainedThrough && b.date <= date).length;
    const unseen = request.holdoutDates.map((d, i) => ({ d, i })).filter(({ d }) => sessionsAfter(d) > FORECAST_DAYS);
    const own = new Map<number, { direction: number; magnitude: number }>();
    if (unseen.length > 0) {
      const { samples } = buildDataset(request.symbol, request.bars, model.metadata.featureNames, request.range);
      const index = new Map(samples.asOf.map((d, i) => [d, i]));
      const scorable = unseen.filter(({ d }) => index.has(d));
      const p = model.predict(samples, scorable.map(({ d }) => index.get(d)!));
      scorable.forEach(({ i }, k) => own.set(i, { direction: p.direction[k]!, magnitude: p.magnitude[k]! }));
    }
    const rest = request.holdoutDates.filter((_, i) => !own.has(i));
    const rows = rest.length
      ? await store.repos.predictionLog.find({
          where: { prediction_set: request.predictionSet, symbol: request.symbol, source: 'lstm', predict_date: In(rest) },
          order: { id: 'ASC' },
        })
      : [];
    const logged = new Map<string, { direction: number; magnitude: number }>();
    for (const row of rows) if (!logged.has(row.predict_date)) logged.set(row.predict_date, { direction: row.direction, magnitude: row.magnitude });

    const score: IncumbentScore = { version_id: current.version_id, trained_through: trainedThrough, positions: [], direction: [], magnitude: [], own: own.size, logged: 0, excluded: 0 };
    request.holdoutDates.forEach((d, i) => {
      const found = own.get(i) ?? logged.get(d);
      if (!found) {
        score.excluded++;
        return;
      }
      if (!own.has(i)) score.logged++;
      score.positions.push(i);
      score.direction.push(found.direction);
      score.magnitude.push(found.magnitude);
    });
    return { score, reason: '' };
  } finally {
    model.dispose();
  }
}
