import { beforeAll, describe, expect, it } from 'vitest';
import { Store, Trainer, parameterGrid, resolveConfig, type DailyBar, type TrainingSettings } from '../plugin/index.js';
import type { TrainingParams } from '../plugin/config.js';
import { initBackend } from '../plugin/model/backend.js';
import { FORECAST_DAYS } from '../plugin/training/constants.js';
import { buildDataset, fitModel, pick } from '../plugin/training/fit.js';
import { cvScore, evaluate } from '../plugin/training/metrics.js';
import { fitFold, halvingSchedule, rungEpochs, searchGrid, type CvData, type FoldUnit, type HalvingRecord } from '../plugin/training/search.js';
import { holdoutSplit, timeSeriesSplit } from '../plugin/training/splits.js';
import { spxBars } from './support/spx.js';

/** Tiny real training, as in trainer.test.ts: about four years of S&P data, small networks, few epochs. */
const TINY: Partial<TrainingSettings> = { batch_size: 64, importance_repeats: 0, skill_gate: false, arima_baseline: false };
const START = '2016-01-01';

/** The cross-validation data full mode builds: the folds of the windows before the 63-window holdout. */
function cvData(bars: readonly DailyBar[], settings: TrainingSettings, nSplits: number): CvData {
  const dataset = buildDataset('SPX', bars, resolveConfig({}).feature_names, { start: START });
  const split = holdoutSplit(dataset.samples.labeled, settings.holdout_sessions, FORECAST_DAYS);
  const folds = timeSeriesSplit(split.train.length, { nSplits, gap: FORECAST_DAYS });
  return { dataset, labels: dataset.samples, folds, settings, trainingType: 'full' };
}

const name = (p: TrainingParams) => `lr ${p.lr}, hidden ${p.hidden}, epochs ${p.epochs}`;

/** The unit, counting what it is asked to run. */
function counting(calls: Array<{ params: string; fold: number; epochs: number }>): FoldUnit {
  return (data, fold, params, epochs, onEpoch) => {
    calls.push({ params: name(params), fold, epochs });
    return fitFold(data, fold, params, epochs, onEpoch);
  };
}

describe('the halving schedule', () => {
  it('costs the default grid (8 combinations × 5 folds, epochs 30/50) at most 408 epoch-fits against grid’s 1,600', () => {
    const grid = parameterGrid(resolveConfig({}).training);
    expect(grid.map((p) => p.epochs)).toEqual([30, 50, 30, 50, 30, 50, 30, 50]);
    const plan = halvingSchedule(8, 5);
    expect(plan).toEqual([
      { rung: 0, combinations: 8, folds: 1, epochDivisor: 16, final: false },
      { rung: 1, combinations: 4, folds: 2, epochDivisor: 8, final: false },
      { rung: 2, combinations: 2, folds: 3, epochDivisor: 4, final: false },
      { rung: 3, combinations: 1, folds: 5, epochDivisor: 1, final: true },
    ]);
    // Whichever combinations survive: the survivors with the most (fewest) epochs give the most (fewest) epoch-fits.
    const cost = (order: 1 | -1) =>
      plan.map((r) => [...grid].sort((a, b) => order * (b.epochs - a.epochs)).slice(0, r.combinations).reduce((sum, p) => sum + r.folds * rungEpochs(p.epochs, r.epochDivisor), 0));
    // rung 0: 4 × ⌈30/16⌉ + 4 × ⌈50/16⌉ = 8 + 16; rung 1: 4 × 2 × ⌈50/8⌉ = 56; rung 2: 2 × 3 × ⌈50/4⌉ = 78; rung 3: 5 × 50
    expect(cost(1)).toEqual([24, 56, 78, 250]);
    // rung 1: 4 × 2 × ⌈30/8⌉ = 32; rung 2: 2 × 3 × ⌈30/4⌉ = 48; rung 3: 5 × 30
    expect(cost(-1)).toEqual([24, 32, 48, 150]);
    const gridCost = grid.reduce((sum, p) => sum + 5 * p.epochs, 0);
    expect(gridCost).toBe(1600);
    expect(408 * 3).toBeLessThanOrEqual(gridCost);
  });

  it('halves ⌈n/2⌉ at a time, caps the folds at K, and a single combination is grid', () => {
    expect(halvingSchedule(5, 3).map((r) => [r.combinations, r.folds, r.epochDivisor])).toEqual([[5, 1, 16], [3, 2, 8], [2, 3, 4], [1, 3, 1]]);
    expect(halvingSchedule(1, 5)).toEqual([{ rung: 0, combinations: 1, folds: 5, epochDivisor: 1, final: true }]);
  });

  it('ranks by cvScore, breaks ties by grid order, and says why each combination was pruned', async () => {
    // A stand-in unit: combination i scores f1 F1[i] (mse 0) on every fold; 3 folds of one window each.
    const F1 = [0.6, 0.6, 0.6, 0.4];
    const grid = F1.map((_, i) => ({ lr: 0.001 * (i + 1), hidden: 4, epochs: 8 }));
    const data = { folds: [0, 1, 2].map((f) => ({ train: [f], test: [f + 1] })) } as unknown as CvData;
    const unit: FoldUnit = async (_data, _fold, params) => ({ f1: F1[grid.indexOf(params)]!, mse: 0, prediction: { probUpRaw: [0.5], magnitude: [0] } });
    const { halving, best, cv } = await searchGrid(data, grid, 'halving', { unit });
    const rungs = halving!.rungs;
    expect(rungs.map((r) => [r.kept, r.pruned.map((p) => p.grid_index)])).toEqual([
      [[0, 1], [2, 3]],
      [[0], [1]],
      [[0], []],
    ]);
    expect(rungs[0]!.pruned.map((p) => p.reason)).toEqual([
      "rung 0: score 0.6000 ties the kept half's cut 0.6000 and comes later in grid order",
      "rung 0: score 0.4000 below the kept half's cut 0.6000",
    ]);
    expect(rungs[1]!.pruned[0]!.reason).toBe("rung 1: score 0.6000 ties the kept half's cut 0.6000 and comes later in grid order");
    expect(best).toEqual({ params: grid[0], folds: [0, 1, 2].map(() => ({ f1: 0.6, mse: 0 })), avg_f1: 0.6, avg_mse: 0, score: cvScore(0.6, 0) });
    expect(cv).toEqual([best]);
  });
});

describe('cross-validated search on the real S&P data', () => {
  let bars: DailyBar[];
  beforeAll(async () => {
    // The backend a training uses (Trainer.train initialises it): a new network's initializer runs through it.
    await initBackend();
    bars = await spxBars();
  });

  it('grid gives exactly what fitting every combination on every fold, one by one, gives', async () => {
    const { training } = resolveConfig({ training: { ...TINY, param_grid: { lr: [0.003], hidden: [4, 8], epochs: [1] } } });
    const data = cvData(bars, training, 3);
    const grid = parameterGrid(training);
    const calls: Array<{ params: string; fold: number; epochs: number }> = [];
    const searched = await searchGrid(data, grid, 'grid', { unit: counting(calls) });

    // What full mode did before the search module: fit each combination on each fold, score its test windows.
    const direct = [];
    for (const params of grid) {
      const folds = [];
      for (const fold of data.folds) {
        const model = await fitModel(data.dataset, fold.train, data.labels, { params, settings: training, trainingType: 'full' });
        const p = model.predict(data.dataset.samples, fold.test);
        model.dispose();
        const m = evaluate({ actualDirection: pick(data.labels.direction, fold.test), predictedDirection: p.direction, actualReturn: pick(data.labels.magnitude, fold.test), predictedReturn: p.magnitude });
        folds.push({ f1: m.f1, mse: m.mse, probUpRaw: p.probUpRaw });
      }
      direct.push(folds);
    }
    expect(calls).toEqual(grid.flatMap((p) => [0, 1, 2].map((fold) => ({ params: name(p), fold, epochs: 1 }))));
    expect(searched.search).toBe('grid');
    expect(searched.halving).toBeUndefined();
    expect(searched.cv.map((c) => c.folds)).toEqual(direct.map((folds) => folds.map(({ f1, mse }) => ({ f1, mse }))));
    for (const c of searched.cv) expect(c.score).toBe(cvScore(c.avg_f1, c.avg_mse));
    const bestIndex = searched.cv[1]!.score > searched.cv[0]!.score ? 1 : 0;
    expect(searched.best).toBe(searched.cv[bestIndex]);
    expect(searched.best.params).toEqual(grid[bestIndex]);
    expect(searched.outOfFold.indices).toEqual(data.folds.flatMap((f) => f.test));
    expect(searched.outOfFold.probUp).toEqual(direct[bestIndex]!.flatMap((f) => f.probUpRaw));
  });

  describe('halving on 4 combinations × 4 folds at 8 epochs', () => {
    const settings = resolveConfig({ training: { ...TINY, param_grid: { lr: [0.003, 0.01], hidden: [4, 8], epochs: [8] }, search: 'halving' } }).training;
    const grid = parameterGrid(settings);
    let first: Awaited<ReturnType<typeof searchGrid>>;
    const calls: Array<{ params: string; fold: number; epochs: number }> = [];
    beforeAll(async () => {
      first = await searchGrid(cvData(bars, settings, 4), grid, 'halving', { unit: counting(calls) });
    });

    it('prunes per the schedule, records every rung and pruned combination with its reason, and runs 44 epoch-fits', () => {
      // H = 2 halvings (4 → 2 → 1):
      //   rung 0: 4 combinations × fold 0 at ⌈8/8⌉ = 1 epoch      → 4 units,  4 epoch-fits
      //   rung 1: 2 combinations × folds 0–1 at ⌈8/4⌉ = 2 epochs  → 4 units,  8 epoch-fits
      //   rung 2: the winner × folds 0–3 at its full 8 epochs      → 4 units, 32 epoch-fits
      //   44 in all, against grid's 4 × 4 × 8 = 128.
      const record = first.halving as HalvingRecord;
      expect(first.search).toBe('halving');
      expect(record.rungs.map((r) => [r.folds, r.epoch_divisor, r.epoch_fits, r.results.map((x) => x.epochs)])).toEqual([
        [[0], 8, 4, [1, 1, 1, 1]],
        [[0, 1], 4, 8, [2, 2]],
        [[0, 1, 2, 3], 1, 32, [8]],
      ]);
      expect(record.epoch_fits).toBe(44);
      expect(record.grid_epoch_fits).toBe(128);
      expect(calls.reduce((sum, c) => sum + c.epochs, 0)).toBe(44);

      const [r0, r1, r2] = record.rungs as [HalvingRecord['rungs'][number], HalvingRecord['rungs'][number], HalvingRecord['rungs'][number]];
      // Each rung keeps the better half by its own scores (ties by grid order) and prunes the rest below the cut.
      for (const [rung, evaluated] of [[r0, [0, 1, 2, 3]], [r1, r0.kept]] as const) {
        expect(rung.results.map((x) => x.grid_index)).toEqual(evaluated);
        for (const x of rung.results) {
          expect(x.params).toEqual(grid[x.grid_index]);
          expect(x.folds).toHaveLength(rung.folds.length);
          expect(x.score).toBe(cvScore(x.avg_f1, x.avg_mse));
        }
        const order = [...rung.results].sort((a, b) => b.score - a.score || a.grid_index - b.grid_index).map((x) => x.grid_index);
        const keep = rung.results.length / 2;
        expect(rung.kept).toEqual(order.slice(0, keep));
        expect(rung.cut).toBe(rung.results.find((x) => x.grid_index === order[keep - 1])!.score);
        expect(rung.pruned.map((p) => p.grid_index)).toEqual(order.slice(keep));
        for (const p of rung.pruned) {
          expect(p.params).toEqual(grid[p.grid_index]);
          const verdict = p.score < rung.cut! ? 'below the kept half' : 'ties the kept half';
          expect(p.reason).toMatch(new RegExp(`^rung ${rung.rung}: score -?\\d+\\.\\d+ ${verdict}'s cut -?\\d+\\.\\d+`));
        }
      }
      expect(r0.pruned).toHaveLength(2);
      expect(r1.pruned).toHaveLength(1);
      // The winner: the last survivor, on all four folds at its full epochs; its out-of-fold rows cover every fold.
      expect(r2).toMatchObject({ kept: [r1.kept[0]], pruned: [] });
      expect(r2.cut).toBeUndefined();
      expect(r2.results[0]).toMatchObject({ grid_index: r1.kept[0], epochs: 8 });
      expect(first.best.params).toEqual(grid[r1.kept[0]!]);
      expect(first.best.folds).toHaveLength(4);
      expect(first.cv).toEqual([first.best]);
      const { grid_index: _g, epochs: _e, ...final } = r2.results[0]!;
      expect(final).toEqual(first.best);
      expect(calls.slice(-4)).toEqual([0, 1, 2, 3].map((fold) => ({ params: name(first.best.params), fold, epochs: 8 })));
      expect(first.outOfFold.folds).toHaveLength(4);
    });

    it('is deterministic: a second run records exactly the same', async () => {
      const second = await searchGrid(cvData(bars, settings, 4), grid, 'halving');
      expect(second).toEqual(first);
    });

    it('full mode with search halving stores the rungs with the run and refits the winner', async () => {
      const store = await Store.open({ url: 'sqlite::memory:' });
      try {
        const { training, feature_names } = resolveConfig({
          training: { ...TINY, param_grid: settings.param_grid, search: 'halving', cv_splits: 4, short_data_samples: 100 },
        });
        const outcome = await new Trainer(store).train({ symbol: 'SPX', bars, mode: 'full', trigger: 'manual', start: START, featureNames: feature_names, settings: training });
        const metrics = outcome.run.metrics_json as { search: string; cv: unknown; best_score: number; halving: HalvingRecord };
        expect(metrics.search).toBe('halving');
        expect(metrics.halving).toEqual(JSON.parse(JSON.stringify(first.halving)));
        expect(metrics.cv).toEqual(JSON.parse(JSON.stringify(first.cv)));
        expect(metrics.best_score).toBe(first.best.score);
        expect(outcome.run.params_json).toMatchObject({ ...first.best.params, n_splits: 4 });
      } finally {
        await store.close();
      }
    });
  });
});
