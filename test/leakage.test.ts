import { describe, expect, it } from 'vitest';
import { initBackend, resolveConfig } from '../plugin/index.js';
import { buildDataset, fitModel, pick, scoreModel } from '../plugin/training/fit.js';
import { holdoutSplit } from '../plugin/training/splits.js';
import { shuffledLabels } from './support/shuffled-labels.js';
import { spxBars } from './support/spx.js';

describe('training on labels shuffled in time', () => {
  it('scores a holdout direction accuracy within noise of the majority-class rate', async () => {
    await initBackend();
    const { feature_names, training } = resolveConfig({});
    const dataset = buildDataset('SPX', await spxBars(), feature_names, { start: '2009-01-01' });
    const { samples } = dataset;
    const split = holdoutSplit(samples.labeled, 500, 5);

    const shuffled = shuffledLabels(samples, split.train, 2024);

    const model = await fitModel(dataset, split.train, shuffled, {
      params: { lr: 0.003, hidden: 16, epochs: 3 },
      settings: { ...training, batch_size: 64 },
      trainingType: 'fast',
    });
    try {
      const metrics = scoreModel(model, samples, split.test, samples); // judged against the real labels
      const upShare = pick(samples.direction, split.test).reduce((a, b) => a + b, 0) / split.test.length;
      const majority = Math.max(upShare, 1 - upShare);
      const noise = 3 * Math.sqrt((majority * (1 - majority)) / split.test.length);
      expect(metrics.n).toBe(500);
      expect(metrics.accuracy).toBeLessThanOrEqual(majority + noise);
      expect(metrics.accuracy).toBeGreaterThanOrEqual(1 - majority - noise);
    } finally {
      model.dispose();
    }
  });
});
