import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../plugin/host.js';
import { currentBackend, initBackend } from '../plugin/model/backend.js';
import {
  buildNetwork,
  predictNetwork,
  SeededDropout,
  trainNetwork,
  type LabelledWindows,
  type NetworkOptions,
  type WindowBatch,
} from '../plugin/model/network.js';
import { deserializeNetwork, serializeNetwork } from '../plugin/model/serialization.js';
import { gaussian, mulberry32 } from '../plugin/model/random.js';

/*
 * Real TensorFlow.js on WASM and on the pure-JS CPU backend. Each test file runs in its own isolated worker, so the first
 * test here is the first initBackend call and sees the automatic choice; later suites switch backends explicitly.
 */
const tfjsNodeInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

const savedEnv = process.env.LSTM_TF_BACKEND;
beforeAll(() => {
  delete process.env.LSTM_TF_BACKEND;
});
afterAll(() => {
  if (savedEnv === undefined) delete process.env.LSTM_TF_BACKEND;
  else process.env.LSTM_TF_BACKEND = savedEnv;
});

function randomWindows(seed: number, n: number, seqLen: number, nFeatures: number): WindowBatch {
  const random = mulberry32(seed);
  return { data: Float32Array.from({ length: n * seqLen * nFeatures }, () => gaussian(random)), n, seqLen, nFeatures };
}

/** Random windows with random labels: nothing to learn, for checks that only need training to run. */
function noise(seed: number, n: number, seqLen: number, nFeatures: number): LabelledWindows {
  const random = mulberry32(seed + 1000);
  return {
    x: randomWindows(seed, n, seqLen, nFeatures),
    direction: Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0)),
    returns: Array.from({ length: n }, () => Array.from({ length: 5 }, () => 0.01 * gaussian(random))),
  };
}

/** Up when feature 0 averages above 0 over the last 5 sessions; the return path grows linearly with that mean. */
function learnable(seed: number, n: number, seqLen: number, nFeatures: number): LabelledWindows {
  const x = randomWindows(seed, n, seqLen, nFeatures);
  const signal = Array.from({ length: n }, (_, i) => {
    let sum = 0;
    for (let t = seqLen - 5; t < seqLen; t++) sum += x.data[(i * seqLen + t) * nFeatures]!;
    return sum / 5;
  });
  return {
    x,
    direction: signal.map((s) => (s > 0 ? 1 : 0)),
    returns: signal.map((s) => [1, 2, 3, 4, 5].map((h) => 0.004 * h * s)),
  };
}

function scores(prediction: { probUp: ArrayLike<number>; returns: number[][] }, data: LabelledWindows) {
  let hits = 0;
  let squared = 0;
  for (let i = 0; i < data.x.n; i++) {
    if ((prediction.probUp[i]! > 0.5 ? 1 : 0) === data.direction[i]) hits++;
    for (let h = 0; h < 5; h++) squared += (prediction.returns[i]![h]! - data.returns[i]![h]!) ** 2;
  }
  return { accuracy: hits / data.x.n, mse: squared / (data.x.n * 5) };
}

const weightsOf = (model: tf.LayersModel) => model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());

const small: NetworkOptions = { seqLen: 10, nFeatures: 3, hidden: 8, learningRate: 0.01, seed: 7 };

function recordingLogger() {
  const lines: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const record = (message: string, fields?: Record<string, unknown>) => lines.push({ message, fields });
  const logger: Logger = { debug: record, info: record, warn: record, error: record };
  return { logger, lines };
}

describe('initBackend without a request', () => {
  it('picks tfjs-node when it is installed, else WASM, logs why once, and returns the same info again', async () => {
    const { logger, lines } = recordingLogger();
    expect(currentBackend()).toBeUndefined();
    const info = await initBackend({ logger });
    if (tfjsNodeInstalled) {
      expect(info).toEqual({ name: 'tensorflow', reason: '@tensorflow/tfjs-node is installed (native)' });
    } else {
      expect(info.name).toBe('wasm');
      expect(info.reason).toMatch(/^tensorflow unavailable \(Cannot find package '@tensorflow\/tfjs-node' imported from /);
    }
    expect(tf.getBackend()).toBe(info.name);
    expect(lines).toEqual([{ message: `tensorflow.js backend: ${info.name}`, fields: { backend: info.name, reason: info.reason } }]);

    expect(await initBackend({ logger })).toBe(info);
    expect(currentBackend()).toBe(info);
    expect(lines).toHaveLength(1);
  });
});

describe.each(['wasm', 'cpu'] as const)('the network on the %s backend', (backend) => {
  beforeAll(async () => {
    expect(await initBackend({ preferred: backend })).toMatchObject({ name: backend });
    expect(tf.getBackend()).toBe(backend);
  });

  it('has an LSTM, a 2-way softmax head and a 1..5-session returns head', () => {
    const model = buildNetwork({ seqLen: 60, nFeatures: 12, hidden: 16, learningRate: 1e-3, seed: 1 });
    expect(model.inputs[0]!.shape).toEqual([null, 60, 12]);
    expect(model.outputs.map((o) => o.shape)).toEqual([[null, 2], [null, 5]]);
    expect(model.weights.map((w) => [w.originalName, w.shape])).toEqual([
      ['lstm/kernel', [12, 64]],
      ['lstm/recurrent_kernel', [16, 64]],
      ['lstm/bias', [64]],
      ['direction/kernel', [16, 2]],
      ['direction/bias', [2]],
      ['returns/kernel', [16, 5]],
      ['returns/bias', [5]],
    ]);
    expect(buildNetwork({ ...small, horizon: 1 }).outputs[1]!.shape).toEqual([null, 1]);

    const x = randomWindows(3, 7, 60, 12);
    const prediction = predictNetwork(model, x, { returnScale: 1 });
    expect(prediction.probUp).toBeInstanceOf(Float32Array);
    expect(prediction.probUp).toHaveLength(7);
    expect(prediction.returns.map((row) => row.length)).toEqual([5, 5, 5, 5, 5, 5, 5]);

    // The engine computes what tfjs's own layers compute, to float32 rounding.
    const [rows, paths] = tf.tidy(() =>
      (model.predict(tf.tensor3d(x.data, [7, 60, 12])) as tf.Tensor[]).map((t) => t.arraySync() as number[][]),
    );
    for (const [i, [down, up]] of rows!.entries()) {
      expect(down! + up!).toBeCloseTo(1, 6);
      expect(Math.abs(prediction.probUp[i]! - up!)).toBeLessThan(1e-6);
      paths![i]!.forEach((r, h) => expect(Math.abs(prediction.returns[i]![h]! - r)).toBeLessThan(1e-6));
    }
    expect(predictNetwork(model, { data: new Float32Array(0), n: 0, seqLen: 60, nFeatures: 12 }, { returnScale: 1 })).toEqual({
      probUp: new Float32Array(0),
      returns: [],
    });
  });

  it('initialises from its seed: the same seed gives the same weights, another seed others; the recurrent kernel is orthogonal', () => {
    expect(weightsOf(buildNetwork(small))).toEqual(weightsOf(buildNetwork(small)));
    const other = weightsOf(buildNetwork({ ...small, seed: 8 }));
    const first = weightsOf(buildNetwork(small));
    for (const i of [0, 1, 3, 5]) expect(other[i]).not.toEqual(first[i]);

    const recurrent = buildNetwork({ ...small, hidden: 16 }).getWeights()[1]!; // 16 × 64: orthonormal rows
    const gram = tf.matMul(recurrent, recurrent, false, true).arraySync() as number[][];
    gram.forEach((row, i) => row.forEach((value, j) => expect(value).toBeCloseTo(i === j ? 1 : 0, 5)));
  });

  it('draws a new dropout mask at every training step, the same sequence for the same seed, and passes inputs through', () => {
    const masks = (layer: SeededDropout) => [1, 2, 3].map(() => layer.nextMask(4, 16)!);
    const a = masks(new SeededDropout({ rate: 0.5, seed: 11 }));
    expect(a[0]).not.toEqual(a[1]);
    expect(a[1]).not.toEqual(a[2]);
    expect(new Set(a.flatMap((mask) => [...mask]))).toEqual(new Set([0, 2]));
    const dropped = a.flatMap((mask) => [...mask]).filter((v) => v === 0).length / (3 * 64);
    expect(dropped).toBeGreaterThan(0.35);
    expect(dropped).toBeLessThan(0.65);
    expect(masks(new SeededDropout({ rate: 0.5, seed: 11 }))).toEqual(a);
    expect(masks(new SeededDropout({ rate: 0.5, seed: 12 }))[0]).not.toEqual(a[0]);
    const resumed = new SeededDropout({ rate: 0.5, seed: 11, step: 2 });
    expect(resumed.nextMask(4, 16)).toEqual(a[2]);
    expect(new SeededDropout({ rate: 0, seed: 11 }).nextMask(4, 16)).toBeUndefined();
    const ones = tf.ones([4, 16]);
    expect((new SeededDropout({ rate: 0.5, seed: 11 }).apply(ones, { training: true }) as tf.Tensor).dataSync()).toEqual(ones.dataSync());
  });

  it('trains reproducibly: the same seeds give identical weights and predictions, another seed different ones', async () => {
    const data = noise(1, 64, small.seqLen, small.nFeatures);
    const run = async (buildSeed: number, shuffleSeed: number) => {
      const model = buildNetwork({ ...small, seed: buildSeed });
      const result = await trainNetwork(model, data, { epochs: 2, batchSize: 16, seed: shuffleSeed, returnScale: 0.01 });
      const dropoutSteps = model.getLayer('dropout').getConfig().step;
      return { result, dropoutSteps, weights: weightsOf(model), prediction: predictNetwork(model, data.x, { returnScale: 0.01 }) };
    };
    const first = await run(7, 1);
    const again = await run(7, 1);
    expect(again.weights).toEqual(first.weights);
    expect(again.prediction).toEqual(first.prediction);
    expect(again.result).toEqual(first.result);
    expect(first.result.epochsRun).toBe(2);
    expect(first.result.bestEpoch).toBe(2);
    expect(first.dropoutSteps).toBe(8); // a fresh mask for each of 2 epochs × 4 batches

    expect((await run(8, 1)).prediction.probUp).not.toEqual(first.prediction.probUp);
    expect((await run(7, 2)).prediction.probUp).not.toEqual(first.prediction.probUp);
  });

  it('learns a learnable problem: direction accuracy ≥ 0.85 in and out of sample, return MSE cut by 4×', async () => {
    const train = learnable(1, 256, 20, 3);
    const test = learnable(2, 200, 20, 3);
    const returnScale = 0.01; // ≈ the std of the 5-session target
    const model = buildNetwork({ seqLen: 20, nFeatures: 3, hidden: 16, learningRate: 0.01, seed: 1 });
    const before = scores(predictNetwork(model, train.x, { returnScale }), train);
    const epochs: number[] = [];
    const result = await trainNetwork(model, train, { epochs: 10, seed: 1, returnScale, onEpoch: (info) => void epochs.push(info.epoch) });
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(result.history[9]!.loss).toBeLessThan(result.history[0]!.loss / 2);

    const inSample = scores(predictNetwork(model, train.x, { returnScale }), train);
    const outOfSample = scores(predictNetwork(model, test.x, { returnScale }), test);
    expect(before.accuracy).toBeLessThan(0.6);
    expect(inSample.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(outOfSample.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(inSample.mse).toBeLessThan(before.mse / 4);
    expect(outOfSample.mse).toBeLessThan(before.mse / 4);
  });

  it('reports each epoch and stops early on the validation loss, keeping the best epoch’s weights', async () => {
    const model = buildNetwork({ ...small, learningRate: 0.05 });
    const snapshots: Float32Array[][] = [];
    const infos: unknown[] = [];
    const result = await trainNetwork(model, noise(1, 64, small.seqLen, small.nFeatures), {
      epochs: 30,
      batchSize: 16,
      seed: 1,
      returnScale: 0.01,
      validation: noise(2, 32, small.seqLen, small.nFeatures),
      earlyStoppingPatience: 2,
      onEpoch: (info) => {
        infos.push(info);
        snapshots.push(weightsOf(model));
      },
    });
    const valLosses = result.history.map((h) => h.valLoss!);
    const best = valLosses.indexOf(Math.min(...valLosses)) + 1;
    expect(result.epochsRun).toBeLessThan(30);
    expect(result.bestEpoch).toBe(best);
    expect(result.epochsRun).toBe(best + 2);
    expect(weightsOf(model)).toEqual(snapshots[best - 1]);
    expect(infos).toHaveLength(result.epochsRun);
    expect(infos[0]).toEqual({
      epoch: 1,
      epochs: 30,
      loss: result.history[0]!.loss,
      directionLoss: expect.any(Number),
      returnsLoss: expect.any(Number),
      valLoss: valLosses[0],
    });
    const first = infos[0] as { loss: number; directionLoss: number; returnsLoss: number };
    expect(first.directionLoss + first.returnsLoss).toBeCloseTo(first.loss, 5);
  });

  it('scales returns back by returnScale and leaks no tensors in prediction or training', async () => {
    const model = buildNetwork(small);
    const data = noise(3, 40, small.seqLen, small.nFeatures);
    const unit = predictNetwork(model, data.x, { returnScale: 1 });
    const scaled = predictNetwork(model, data.x, { returnScale: 0.25, batchSize: 7 });
    expect(scaled.returns).toEqual(unit.returns.map((row) => row.map((r) => r * 0.25)));
    expect(scaled.probUp).toEqual(unit.probUp);

    const options = { epochs: 1, batchSize: 16, seed: 1, returnScale: 0.01, validation: data, earlyStoppingPatience: 1 };
    await trainNetwork(model, data, options); // the first fit creates the optimizer's slots, which live on
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) predictNetwork(model, data.x, { returnScale: 0.01 });
    await trainNetwork(model, data, options);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('round-trips through its blob: the loaded network predicts bit-identically and resumes training exactly', async () => {
    const data = noise(4, 48, small.seqLen, small.nFeatures);
    const model = buildNetwork(small);
    const epoch = { epochs: 1, batchSize: 16, seed: 1, returnScale: 0.01 };
    await trainNetwork(model, data, epoch);
    const blob = await serializeNetwork(model);
    expect(blob.readUInt32BE(0)).toBeLessThan(blob.length);

    const loaded = await deserializeNetwork(blob);
    expect(weightsOf(loaded)).toEqual(weightsOf(model));
    expect(predictNetwork(loaded, data.x, { returnScale: 0.01 })).toEqual(predictNetwork(model, data.x, { returnScale: 0.01 }));
    expect(await serializeNetwork(loaded)).toEqual(blob);
    // A Buffer that is a view into a larger allocation, as database drivers hand out.
    const padded = Buffer.concat([Buffer.from('xxxx'), blob]).subarray(4);
    expect(weightsOf(await deserializeNetwork(padded))).toEqual(weightsOf(model));
    await trainNetwork(loaded, data, epoch);
    await trainNetwork(model, data, epoch);
    expect(weightsOf(loaded)).toEqual(weightsOf(model));
  });
});

describe('the network across backends', () => {
  it('predicts and trains bit-identically on WASM and CPU from the same stored model', async () => {
    await initBackend({ preferred: 'wasm' });
    const data = noise(5, 48, small.seqLen, small.nFeatures);
    const blob = await serializeNetwork(buildNetwork(small));
    const runs = [];
    for (const backend of ['wasm', 'cpu'] as const) {
      await initBackend({ preferred: backend });
      const model = await deserializeNetwork(blob);
      await trainNetwork(model, data, { epochs: 2, batchSize: 16, seed: 1, returnScale: 0.01 });
      const moments = (await model.optimizer.getWeights()).map((w) => w.tensor.dataSync());
      runs.push({ weights: weightsOf(model), prediction: predictNetwork(model, data.x, { returnScale: 0.01 }), moments });
    }
    expect(runs[1]!.weights).toEqual(runs[0]!.weights);
    expect(runs[1]!.prediction).toEqual(runs[0]!.prediction);
    expect(runs[1]!.moments).toEqual(runs[0]!.moments);
  });
});

describe('network input checks', () => {
  const model = () => buildNetwork(small);

  it('refuses windows, labels and options that do not fit the network', async () => {
    const data = noise(1, 4, small.seqLen, small.nFeatures);
    expect(() => predictNetwork(model(), { ...data.x, nFeatures: 4 }, { returnScale: 1 })).toThrow(
      'predictNetwork: windows are 10×4, the network takes 10×3',
    );
    expect(() => predictNetwork(model(), { ...data.x, n: 5 }, { returnScale: 1 })).toThrow(
      'predictNetwork: window data holds 120 values, 5×10×3 needs 150',
    );
    expect(() => predictNetwork(model(), data.x, { returnScale: 0 })).toThrow(
      'predictNetwork: returnScale must be a positive finite number, got 0',
    );
    const train = (changes: Partial<LabelledWindows>, options = {}) =>
      trainNetwork(model(), { ...data, ...changes }, { epochs: 1, seed: 1, returnScale: 0.01, ...options });
    await expect(train({ direction: [0, 1, 2, 0] })).rejects.toThrow('trainNetwork: direction[2] is 2, expected 0 or 1');
    await expect(train({ direction: [0, 1] })).rejects.toThrow('trainNetwork: 4 windows but 2 directions and 4 return paths');
    await expect(train({ returns: [[0], [0], [0], [0]] })).rejects.toThrow(
      'trainNetwork: returns[0] has 1 values, the network forecasts 5',
    );
    await expect(train({}, { earlyStoppingPatience: 2 })).rejects.toThrow('trainNetwork: earlyStoppingPatience needs a validation set');
    await expect(train({}, { epochs: 0 })).rejects.toThrow('trainNetwork: epochs must be a positive integer, got 0');
    expect(() => buildNetwork({ ...small, dropout: 1 })).toThrow('buildNetwork: dropout must be in [0, 1), got 1');
    expect(() => buildNetwork({ ...small, hidden: 0 })).toThrow('buildNetwork: hidden must be a positive integer, got 0');
  });
});

describe('model blobs that are not lstm-signals models', () => {
  let blob: Buffer;
  beforeAll(async () => {
    blob = await serializeNetwork(buildNetwork(small));
  });

  const header = (json: unknown) => {
    const body = Buffer.from(JSON.stringify(json));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    return Buffer.concat([length, body]);
  };
  const rewritten = (edit: (parsed: Record<string, any>) => void) => {
    const length = blob.readUInt32BE(0);
    const parsed = JSON.parse(blob.toString('utf8', 4, 4 + length));
    edit(parsed);
    return Buffer.concat([header(parsed), blob.subarray(4 + length)]);
  };

  it.each([
    ['an empty buffer', () => Buffer.alloc(0), '0 bytes is too short for a header'],
    [
      'random bytes',
      () => Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 97 + 13) % 256)),
      'its header length 225365808 overruns the 64-byte blob',
    ],
    ['a header that is not JSON', () => Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{no')]), 'its header is not JSON'],
    ['another format', () => header({ format: 'keras' }), 'its header names format "keras", not "lstm-signals/network"'],
    ['a later version', () => rewritten((h) => (h.version = 2)), 'format version 2 is not supported (this build reads 1)'],
    // 447 float32 weights and the optimizer's int32 step count (its moments exist from the first step on).
    ['a truncated blob', () => blob.subarray(0, blob.length - 1), 'it holds 1791 weight bytes, its specs describe 1792'],
    [
      'damaged weights',
      () => Buffer.concat([blob.subarray(0, -1), Buffer.from([blob.at(-1)! ^ 1])]),
      'its weights do not match their checksum',
    ],
    [
      'an unknown layer',
      () => rewritten((h) => (h.modelTopology.config.layers[1].class_name = 'Nope')),
      'its network cannot be rebuilt (Unknown layer: Nope. This may be due to one of the following reasons:)',
    ],
  ])('refuses %s with a clear error', async (_, bytes, reason) => {
    await expect(deserializeNetwork(bytes())).rejects.toThrow(`model blob is not an lstm-signals model: ${reason}`);
  });
});

describe('initBackend with a request', () => {
  beforeAll(async () => {
    expect(await initBackend({ preferred: 'wasm' })).toEqual({ name: 'wasm', reason: "requested by preferred: 'wasm'" });
  });
  afterEach(() => {
    delete process.env.LSTM_TF_BACKEND;
  });

  it('honours LSTM_TF_BACKEND over the caller’s preference', async () => {
    process.env.LSTM_TF_BACKEND = 'cpu';
    const { logger, lines } = recordingLogger();
    const info = await initBackend({ preferred: 'wasm', logger });
    expect(info).toEqual({ name: 'cpu', reason: 'requested by LSTM_TF_BACKEND=cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(currentBackend()).toBe(info);
    expect(lines).toEqual([
      { message: 'tensorflow.js backend: cpu', fields: { backend: 'cpu', reason: 'requested by LSTM_TF_BACKEND=cpu' } },
    ]);

    process.env.LSTM_TF_BACKEND = 'gpu';
    await expect(initBackend()).rejects.toThrow('LSTM_TF_BACKEND=gpu is not a backend: use one of tensorflow, wasm, cpu');
    delete process.env.LSTM_TF_BACKEND;
    expect(await initBackend()).toBe(info);
    expect(await initBackend({ preferred: 'wasm' })).toEqual({ name: 'wasm', reason: "requested by preferred: 'wasm'" });
  });

  it('fails clearly when the requested backend cannot load, and keeps the current one', async () => {
    const before = currentBackend();
    const request = initBackend({ preferred: 'tensorflow' });
    if (tfjsNodeInstalled) {
      expect(await request).toEqual({ name: 'tensorflow', reason: "requested by preferred: 'tensorflow'" });
      return;
    }
    await expect(request).rejects.toThrow(
      "TensorFlow.js backend 'tensorflow' (preferred: 'tensorflow') cannot load: Cannot find package '@tensorflow/tfjs-node'",
    );
    expect(currentBackend()).toBe(before);
    expect(tf.getBackend()).toBe('wasm');
  });
});
