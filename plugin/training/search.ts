/**
 * Full mode's cross-validated search over the parameter grid (`training.search`).
 *
 * One unit of work, `fitFold`: fit parameters P on fold F with E epochs → that fold's {f1, mse} and its
 * out-of-fold predictions. It is a plain async function of (data, fold index, params, epochs), so the units can
 * be run anywhere (a later change may run them as separate queue jobs); the drivers below only order them.
 *
 * - `grid` (the original): every combination on every fold at its own epochs; the best cvScore wins (the first
 *   in grid order on a tie).
 * - `halving`: successive halving (Jamieson & Talwalkar 2016; the inner loop of Li et al.'s Hyperband). With n
 *   combinations, K folds and H = the number of halvings from n to 1 (⌈n/2⌉ kept each time: 8 → 4 → 2 → 1, H = 3):
 *     rung r < H: the survivors on the first min(r + 1, K) folds, each at ⌈its epochs / 2^(H + 1 − r)⌉ (≥ 1);
 *                 ranked by cvScore over those folds (ties by grid order), the better ⌈half⌉ kept;
 *     rung H:     the one survivor on all K folds at its full epochs — the winner, whose scores and out-of-fold
 *                 predictions are then exactly what grid would have computed for it.
 *   The default grid (8 combinations, epochs 30/50, 5 folds): rung 0 — 8 × 1 fold at 2 or 4 epochs (24);
 *   rung 1 — 4 × 2 folds at 4 or 7; rung 2 — 2 × 3 folds at 8 or 13; rung 3 — 1 × 5 folds at 30 or 50. At most
 *   24 + 56 + 78 + 250 = 408 epoch-fits (fold × epochs), at least 24 + 32 + 48 + 150 = 254, against grid's
 *   4 × 5 × 30 + 4 × 5 × 50 = 1,600: ≤ 25.5 %. A unit already computed (same lr, hidden, fold and epochs — two
 *   combinations that differ only in epochs are one fit once a rung cuts both to the same epochs) is reused, not
 *   refitted, so such a pair ties exactly and grid order decides.
 */
import type { TrainingParams, TrainingSettings } from '../config.js';
import type { ModelPrediction } from '../model/lstm-model.js';
import type { EpochInfo } from '../model/network.js';
import { fitModel, pick, type Dataset, type Labels } from './fit.js';
import { cvScore, evaluate } from './metrics.js';
import { addFold, emptyOutOfFold, type OutOfFold } from './out-of-fold.js';
import type { Split } from './splits.js';

export type SearchMethod = TrainingSettings['search'];

/** Everything a unit needs besides its fold, parameters and epochs: the same for every unit of a training. */
export interface CvData {
  dataset: Dataset;
  labels: Labels;
  folds: readonly Split[];
  settings: Pick<TrainingSettings, 'dropout' | 'seed' | 'batch_size'>;
  trainingType: string;
}

export interface FoldResult {
  f1: number;
  mse: number;
  /** The fold model's raw predictions of the fold's test windows. */
  prediction: Pick<ModelPrediction, 'probUpRaw' | 'magnitude'>;
}

export type FoldUnit = (data: CvData, fold: number, params: TrainingParams, epochs: number, onEpoch?: (info: EpochInfo) => void) => Promise<FoldResult>;

export interface CvResult {
  params: TrainingParams;
  folds: Array<{ f1: number; mse: number }>;
  avg_f1: number;
  avg_mse: number;
  score: number;
}

/** The unit of work: a fresh network with `params` trained `epochs` epochs on fold `fold`'s training windows, scored on its test windows. */
export const fitFold: FoldUnit = async (data, fold, params, epochs, onEpoch) => {
  const split = data.folds[fold];
  if (!split) throw new RangeError(`no fold ${fold} among ${data.folds.length}`);
  const { dataset, labels } = data;
  const model = await fitModel(dataset, split.train, labels, { params: { ...params, epochs }, settings: data.settings, trainingType: data.trainingType, ...(onEpoch && { onEpoch }) });
  try {
    const prediction = model.predict(dataset.samples, split.test);
    const m = evaluate({
      actualDirection: pick(labels.direction, split.test),
      predictedDirection: prediction.direction,
      actualReturn: pick(labels.magnitude, split.test),
      predictedReturn: prediction.magnitude,
    });
    return { f1: m.f1, mse: m.mse, prediction: { probUpRaw: prediction.probUpRaw, magnitude: prediction.magnitude } };
  } finally {
    model.dispose();
  }
};

export interface HalvingResult extends CvResult {
  /** Position in `parameterGrid` order (0-based). */
  grid_index: number;
  epochs: number;
}

export interface HalvingRung {
  rung: number;
  /** Indices (0-based, earliest first) of the folds evaluated at this rung. */
  folds: number[];
  /** Each combination ran ⌈its epochs / epoch_divisor⌉ epochs (at least 1); 1 on the final rung. */
  epoch_divisor: number;
  /** Σ folds × epochs of the units this rung ran (reused units not counted). */
  epoch_fits: number;
  results: HalvingResult[];
  /** The lowest score kept; absent on the final rung. */
  cut?: number;
  kept: number[];
  pruned: Array<{ grid_index: number; params: TrainingParams; score: number; reason: string }>;
}

export interface HalvingRecord {
  schedule: string;
  rungs: HalvingRung[];
  /** Σ folds × epochs over every rung, and what grid would have run. */
  epoch_fits: number;
  grid_epoch_fits: number;
}

export interface SearchOutcome {
  search: SearchMethod;
  /** grid: every combination over every fold; halving: the winner alone over every fold at its full epochs (the rest are in `halving`). */
  cv: CvResult[];
  best: CvResult;
  /** The best combination's out-of-fold predictions, over every fold at its full epochs. */
  outOfFold: OutOfFold;
  halving?: HalvingRecord;
}

export interface SearchOptions {
  /** The unit to run (default `fitFold`). */
  unit?: FoldUnit;
  /** The epoch callback for a unit, given its step (e.g. "params 2/8, fold 3/5"). */
  progress?: (step: string) => ((info: EpochInfo) => void) | undefined;
}

export const HALVING_SCHEDULE =
  'rung r < H (H = halvings from n combinations to 1, ⌈half⌉ kept each): survivors on the first min(r + 1, K) folds at ⌈epochs / 2^(H + 1 − r)⌉; rung H: the survivor on all K folds at its full epochs';

export interface RungPlan {
  rung: number;
  combinations: number;
  folds: number;
  epochDivisor: number;
  final: boolean;
}

/** The halving schedule of `nCombinations` combinations over `nFolds` folds (see the module comment). */
export function halvingSchedule(nCombinations: number, nFolds: number): RungPlan[] {
  let halvings = 0;
  for (let n = nCombinations; n > 1; n = Math.ceil(n / 2)) halvings++;
  const plan: RungPlan[] = [];
  let n = nCombinations;
  for (let rung = 0; rung < halvings; rung++, n = Math.ceil(n / 2)) {
    plan.push({ rung, combinations: n, folds: Math.min(rung + 1, nFolds), epochDivisor: 2 ** (halvings + 1 - rung), final: false });
  }
  plan.push({ rung: halvings, combinations: 1, folds: nFolds, epochDivisor: 1, final: true });
  return plan;
}

export const rungEpochs = (epochs: number, divisor: number) => Math.max(1, Math.ceil(epochs / divisor));

/**
 * `unit` one call at a time, in call order: a process fits one network at once, and the drivers below issue every
 * unit of a rung together (so a fanned-out unit can run them on several workers). After a failure the units still
 * waiting are refused rather than fitted.
 */
export function serialized(unit: FoldUnit): FoldUnit {
  let chain: Promise<unknown> = Promise.resolve();
  let failure: unknown;
  return (...args) => {
    const next = chain.then(() => {
      if (failure !== undefined) throw failure;
      return unit(...args);
    });
    chain = next.catch((error: unknown) => {
      failure ??= error;
    });
    return next;
  };
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function summarise(params: TrainingParams, folds: CvResult['folds']): CvResult {
  const avgF1 = mean(folds.map((s) => s.f1));
  const avgMse = mean(folds.map((s) => s.mse));
  return { params, folds, avg_f1: avgF1, avg_mse: avgMse, score: cvScore(avgF1, avgMse) };
}

/** Runs `params` on `folds` at `epochs` through `run` and gathers the scores and out-of-fold predictions. */
async function evaluateOn(
  data: CvData,
  params: TrainingParams,
  folds: readonly number[],
  epochs: number,
  run: (fold: number) => Promise<FoldResult>,
): Promise<{ result: CvResult; oof: OutOfFold }> {
  const scores: CvResult['folds'] = [];
  const oof = emptyOutOfFold();
  const results = await Promise.all(folds.map(run));
  for (const [i, f] of folds.entries()) {
    const { f1, mse, prediction } = results[i]!;
    scores.push({ f1, mse });
    addFold(oof, data.folds[f]!, prediction);
  }
  return { result: summarise(params, scores), oof };
}

/** Cross-validates `grid` on `data.folds` by `method`. */
export async function searchGrid(data: CvData, grid: readonly TrainingParams[], method: SearchMethod, options: SearchOptions = {}): Promise<SearchOutcome> {
  if (grid.length === 0) throw new RangeError('the parameter grid is empty');
  return method === 'halving' ? halving(data, grid, options) : exhaustive(data, grid, options);
}

async function exhaustive(data: CvData, grid: readonly TrainingParams[], options: SearchOptions): Promise<SearchOutcome> {
  const unit = options.unit ?? serialized(fitFold);
  const all = range(data.folds.length);
  const evaluated = await Promise.all(
    grid.map((params, p) =>
      evaluateOn(data, params, all, params.epochs, (f) => unit(data, f, params, params.epochs, options.progress?.(`params ${p + 1}/${grid.length}, fold ${f + 1}/${data.folds.length}`))),
    ),
  );
  const cv = evaluated.map((e) => e.result);
  const outOfFold = evaluated.map((e) => e.oof);
  const bestIndex = cv.reduce((best, c, i) => (c.score > cv[best]!.score ? i : best), 0);
  return { search: 'grid', cv, best: cv[bestIndex]!, outOfFold: outOfFold[bestIndex]! };
}

/** Higher score first, NaN last, then grid order. */
const rankScore = (r: HalvingResult) => (Number.isNaN(r.score) ? -Infinity : r.score);
const ranked = (a: HalvingResult, b: HalvingResult) => rankScore(b) - rankScore(a) || a.grid_index - b.grid_index;

/** A score for a reason: 4 decimals, or every digit when 4 would not tell it from `other`. */
const shown = (score: number, other: number) => (score !== other && score.toFixed(4) === other.toFixed(4) ? String(score) : score.toFixed(4));

async function halving(data: CvData, grid: readonly TrainingParams[], options: SearchOptions): Promise<SearchOutcome> {
  const unit = options.unit ?? serialized(fitFold);
  const plan = halvingSchedule(grid.length, data.folds.length);
  const done = new Map<string, Promise<FoldResult>>();
  const rungs: HalvingRung[] = [];
  let survivors = range(grid.length);
  let winner: { result: CvResult; oof: OutOfFold } | undefined;
  for (const { rung, folds: nFolds, epochDivisor, final } of plan) {
    const folds = range(nFolds);
    let epochFits = 0;
    const rungResults = survivors.map(async (g, s) => {
      const params = grid[g]!;
      const epochs = rungEpochs(params.epochs, epochDivisor);
      const evaluated = await evaluateOn(data, params, folds, epochs, async (f) => {
        // Two combinations that differ only in epochs are one fit at a rung that cuts both to the same epochs.
        const key = `${params.lr}|${params.hidden}|${f}|${epochs}`;
        let result = done.get(key);
        if (!result) {
          // Kept as a promise at once: the rung's units are issued together, and a twin must wait for this fit.
          const step = `rung ${rung + 1}/${plan.length}, params ${s + 1}/${survivors.length} (grid ${g + 1}/${grid.length}), fold ${f + 1}/${nFolds}`;
          result = unit(data, f, params, epochs, options.progress?.(step));
          done.set(key, result);
          epochFits += epochs;
        }
        return result;
      });
      if (final) winner = evaluated;
      return { ...evaluated.result, grid_index: g, epochs };
    });
    const results: HalvingResult[] = await Promise.all(rungResults);
    const order = [...results].sort(ranked);
    const keep = final ? order.length : Math.ceil(order.length / 2);
    const kept = order.slice(0, keep);
    const cut = kept.at(-1)!.score;
    const record: HalvingRung = { rung, folds, epoch_divisor: epochDivisor, epoch_fits: epochFits, results, ...(!final && { cut }), kept: kept.map((r) => r.grid_index), pruned: [] };
    for (const r of order.slice(keep)) {
      const reason =
        r.score === cut
          ? `rung ${rung}: score ${shown(r.score, cut)} ties the kept half's cut ${shown(cut, r.score)} and comes later in grid order`
          : `rung ${rung}: score ${shown(r.score, cut)} below the kept half's cut ${shown(cut, r.score)}`;
      record.pruned.push({ grid_index: r.grid_index, params: r.params, score: r.score, reason });
    }
    rungs.push(record);
    survivors = record.kept;
  }
  const best = winner!.result;
  return {
    search: 'halving',
    cv: [best],
    best,
    outOfFold: winner!.oof,
    halving: {
      schedule: HALVING_SCHEDULE,
      rungs,
      epoch_fits: rungs.reduce((sum, r) => sum + r.epoch_fits, 0),
      grid_epoch_fits: grid.reduce((sum, p) => sum + p.epochs * data.folds.length, 0),
    },
  };
}
