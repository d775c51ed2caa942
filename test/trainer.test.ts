import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry, Store, Trainer, TrainingLog, resolveConfig, type DailyBar, type TrainingSettings } from '../plugin/index.js';
import { LstmModel, type ModelMetadata } from '../plugin/model/lstm-model.js';
import { buildDataset, fitModel, scoreModel } from '../plugin/training/fit.js';
import { plotData } from '../plugin/training/plot-data.js';
import { holdoutSplit } from '../plugin/training/splits.js';
import { testDatabases } from './support/databases.js';
import { spxBars } from './support/spx.js';

/** The real procedure, shrunk: tiny network, two epochs, about four years of data; the original deploy rule (the skill gate has its own tests). */
const TINY: Partial<TrainingSettings> = {
  fast_params: { lr: 0.003, hidden: 8, epochs: 2 },
  batch_size: 64,
  importance_repeats: 1,
  incremental_epochs: 1,
  skill_gate: false,
  arima_baseline: false,
};
const START = '2016-01-01';

describe.each(testDatabases)('training on the real S&P data, stored on $name', (db) => {
  let store: Store;
  let drop: () => Promise<void>;
  let bars: DailyBar[];
  let registry: ModelRegistry;
  const config = (overrides: Partial<TrainingSettings> = {}) => resolveConfig({ training: { ...TINY, ...overrides } });
  const train = (mode: 'fast' | 'full' | 'incremental', overrides: Partial<TrainingSettings> = {}, trigger = 'manual') => {
    const { training, feature_names } = config(overrides);
    return new Trainer(store).train({ symbol: 'SPX', bars, mode, trigger, start: START, featureNames: feature_names, settings: training });
  };

  beforeAll(async () => {
    const created = await db.create();
    drop = created.drop;
    store = await Store.open({ url: created.url });
    registry = new ModelRegistry(store);
    bars = await spxBars();
  });
  afterAll(async () => {
    await store.close();
    await drop();
  });

  it('fast mode promotes the first model, records the run, and the stored model predicts what was evaluated', async () => {
    const outcome = await train('fast');
    expect(outcome.deployed).toBe(true);
    expect(outcome.reason).toBe('first model for this symbol');
    expect(await registry.currentVersionId('SPX')).toBe(outcome.versionId);

    const run = outcome.run;
    expect(run).toMatchObject({
      version_id: outcome.versionId, symbol: 'SPX', training_type: 'fast', trigger_type: 'manual',
      data_end: '2020-04-17', validation_deployed: true, validation_reason: 'first model for this symbol',
    });
    expect(run.data_start! > START).toBe(true); // the first window ends after the indicator warm-up and 60 sessions
    expect(run.params_json).toMatchObject({ lr: 0.003, hidden: 8, epochs: 2, n_splits: 3, holdout_size: 63 });
    const metrics = run.metrics_json as { cv: Array<{ folds: unknown[] }>; importance: Array<{ feature: string }> };
    expect(metrics.cv).toHaveLength(1);
    expect(metrics.cv[0]!.folds).toHaveLength(3);
    expect(metrics.importance.map((f) => f.feature).sort()).toEqual([...config().feature_names].sort());
    expect(run.holdout_metrics_json).toEqual(outcome.holdout);
    expect(outcome.holdout!.n).toBe(63);
    expect(run.duration_seconds).toBeGreaterThan(0);

    // Reload the stored bytes twice, independently: identical predictions, equal to the metrics the gate used.
    const { version, blob } = await registry.loadBlob(outcome.versionId);
    const metadata = version.metadata_json as unknown as ModelMetadata;
    const dataset = buildDataset('SPX', bars, metadata.featureNames, { start: START });
    const split = holdoutSplit(dataset.samples.labeled, 63, 5);
    const [a, b] = [await LstmModel.fromBlob(blob, metadata), await LstmModel.fromBlob(blob, metadata)];
    try {
      expect(a.predict(dataset.samples, split.test)).toEqual(b.predict(dataset.samples, split.test));
      expect(scoreModel(a, dataset.samples, split.test, dataset.samples)).toEqual(outcome.holdout);
    } finally {
      a.dispose();
      b.dispose();
    }
    // Nothing the model was fitted on reaches into the holdout or its purge gap.
    const firstHoldout = dataset.samples.asOf[split.test[0]!]!;
    const trainedThrough = dataset.samples.asOf.indexOf(metadata.trainedThrough);
    expect(dataset.samples.asOf.indexOf(firstHoldout) - trainedThrough).toBe(6);
    expect(metadata.scaler.mean).toHaveLength(15);
  });

  it('a model loaded from the database predicts exactly what it predicted before it was saved', async () => {
    const { training, feature_names } = config();
    const dataset = buildDataset('SPX', bars, feature_names, { start: '2019-01-01' });
    const indices = Array.from({ length: dataset.samples.labeled }, (_, i) => i);
    const model = await fitModel(dataset, indices, dataset.samples, { params: training.fast_params, settings: training, trainingType: 'fast' });
    const all = Array.from({ length: dataset.samples.asOf.length }, (_, i) => i);
    const before = model.predict(dataset.samples, all);
    const saved = await registry.save({
      symbol: 'RELOAD', trainingType: 'fast', trainingTime: new Date(), dataStart: '2019-01-01', dataEnd: '2020-04-17',
      metadata: model.metadata as unknown as Record<string, unknown>, blob: await model.toBlob(),
    });
    model.dispose();
    const { version, blob } = await registry.loadBlob(saved.version_id);
    const reloaded = await LstmModel.fromBlob(blob, version.metadata_json as unknown as ModelMetadata);
    try {
      expect(reloaded.predict(dataset.samples, all)).toEqual(before);
    } finally {
      reloaded.dispose();
    }
  });

  it('gives plot data with the original date conventions: as-of dates for direction/return, realisation dates for price', async () => {
    const versionId = (await registry.currentVersionId('SPX'))!;
    const { version, blob } = await registry.loadBlob(versionId);
    const model = await LstmModel.fromBlob(blob, version.metadata_json as unknown as ModelMetadata);
    try {
      const plot = plotData(model, versionId, bars, 1);
      expect(plot.dates[0]).toBe('2019-04-17'); // first as-of session on or after one year before the last bar
      expect(plot.dates.at(-1)).toBe('2020-04-09'); // the last as-of whose +5th session exists
      expect(plot.dates_price.at(-1)).toBe('2020-04-17');
      const k = plot.dates.indexOf('2019-07-01');
      expect(plot.dates_price[k]).toBe('2019-07-09'); // five sessions later, across the July 4 holiday
      const close = (date: string) => bars.find((b) => b.date === date)!.close;
      expect(plot.actual_price[k]).toBe(close('2019-07-09'));
      expect(plot.actual_return[k]).toBeCloseTo(close('2019-07-09') / close('2019-07-01') - 1, 12);
      expect(plot.predicted_price[k]).toBeCloseTo(close('2019-07-01') * (1 + plot.predicted_return[k]!), 9);
      expect(plot.actual_direction[k]).toBe(close('2019-07-09') > close('2019-07-01') ? 1 : 0);
      expect(plot.trained_through < plot.dates.at(-1)!).toBe(true);
      expect(() => plotData(model, versionId, bars, 4)).toThrow('years must be 1, 2 or 3, got 4');
    } finally {
      model.dispose();
    }
  });

  it('deletes a candidate that does not beat the current model, and keeps the current one', async () => {
    const before = await registry.currentVersionId('SPX');
    const outcome = await train('fast', { min_f1_improvement: 10, min_mse_ratio: 1e-9, seed: 7 });
    expect(outcome.deployed).toBe(false);
    expect(outcome.reason).toMatch(/^not better than the current model: F1 .* MSE /);
    expect(outcome.currentHoldout?.n).toBe(63);
    expect(await registry.get(outcome.versionId)).toBeUndefined();
    expect(await registry.currentVersionId('SPX')).toBe(before);
    expect(outcome.run).toMatchObject({ validation_deployed: false, version_id: outcome.versionId });
  });

  it('deploys a candidate that passes the gate and prunes to max_versions', async () => {
    const outcome = await train('fast', { min_f1_improvement: -10, max_versions: 1, seed: 11 });
    expect(outcome.deployed).toBe(true);
    expect(outcome.reason).toMatch(/^(F1|both) improved/);
    expect((await registry.list('SPX')).map((v) => v.version_id)).toEqual([outcome.versionId]);
  });

  it('incremental mode fine-tunes the current model on recent windows and makes it current without the gate', async () => {
    const base = await registry.currentVersionId('SPX');
    const outcome = await train('incremental', {}, 'weekly');
    expect(outcome.deployed).toBe(true);
    expect(await registry.currentVersionId('SPX')).toBe(outcome.versionId);
    const version = await registry.getOrFail(outcome.versionId);
    expect(version.metadata_json).toMatchObject({ trainingType: 'incremental', fine_tuned_from: base, epochsRun: 1 });
    // Its calibration is its parent's, matched rank for rank to its own outputs on the 126 windows it was tuned on.
    const parent = (await registry.getOrFail(base!)).metadata_json as unknown as ModelMetadata;
    expect(parent.calibration!.method).toBe('isotonic');
    expect(version.metadata_json.calibration).toMatchObject({ method: 'isotonic', n: 126 });
    expect(version.metadata_json.calibration).not.toEqual(parent.calibration);
    expect(outcome.run).toMatchObject({ training_type: 'incremental', trigger_type: 'weekly', holdout_metrics_json: null, validation_deployed: true });
    expect(outcome.run.data_end).toBe('2020-04-17');
  });

  it('records a failure and leaves the current model untouched', async () => {
    const before = await registry.currentVersionId('SPX');
    const { training, feature_names } = config();
    const trainer = new Trainer(store);
    await expect(
      trainer.train({ symbol: 'SPX', bars: bars.slice(0, 120), mode: 'fast', trigger: 'monthly', featureNames: feature_names, settings: training }),
    ).rejects.toThrow(/too few samples/);
    expect(await registry.currentVersionId('SPX')).toBe(before);
    const [failure] = await new TrainingLog(store).failures('SPX');
    expect(failure).toMatchObject({ symbol: 'SPX', training_type: 'fast', trigger_type: 'monthly' });
    expect(failure!.error_message).toMatch(/too few samples/);
  });
});

describe('full mode', () => {
  it('cross-validates every grid combination and refits the best', async () => {
    const store = await Store.open({ url: 'sqlite::memory:' });
    try {
      const { training, feature_names } = resolveConfig({
        training: { ...TINY, param_grid: { lr: [0.003], hidden: [4, 8], epochs: [1] }, cv_splits: 5, short_data_samples: 500, importance_repeats: 0 },
      });
      const outcome = await new Trainer(store).train({
        symbol: 'SPX', bars: await spxBars(), mode: 'full', trigger: 'monthly', start: START, featureNames: feature_names, settings: training,
      });
      const cv = (outcome.run.metrics_json as { cv: Array<{ params: { hidden: number }; folds: unknown[]; score: number; avg_f1: number; avg_mse: number }> }).cv;
      expect(cv.map((c) => c.params.hidden)).toEqual([4, 8]);
      for (const c of cv) {
        expect(c.folds).toHaveLength(5);
        expect(c.score).toBeCloseTo(c.avg_f1 - 0.1 * Math.log1p(c.avg_mse), 12);
      }
      const best = cv.reduce((x, y) => (y.score > x.score ? y : x));
      expect(outcome.run.params_json).toMatchObject({ hidden: best.params.hidden, n_splits: 5 });
      expect(outcome.run.training_type).toBe('full');
    } finally {
      await store.close();
    }
  });
});
