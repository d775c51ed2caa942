import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../plugin/model/backend.js';
import { assembleKernels } from '../plugin/model/kernels/assemble.js';
import { GEMM_WASM_BASE64 } from '../plugin/model/kernels/gemm-wasm.js';
import { createGemm } from '../plugin/model/kernels/gemm.js';
import { LstmEngine, weightSizes, type NetworkShape } from '../plugin/model/lstm-engine.js';
import { buildNetwork, trainNetwork, type LabelledWindows } from '../plugin/model/network.js';
import { gaussian, mulberry32, permutation } from '../plugin/model/random.js';

beforeAll(async () => {
  await initBackend({ preferred: 'wasm' });
});

function randomArray(random: () => number, length: number, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => scale * gaussian(random));
}

function labelled(seed: number, n: number, seqLen: number, nFeatures: number, horizon: number): LabelledWindows {
  const random = mulberry32(seed);
  return {
    x: { data: randomArray(random, n * seqLen * nFeatures), n, seqLen, nFeatures },
    direction: Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0)),
    returns: Array.from({ length: n }, () => Array.from(randomArray(random, horizon, 0.01))),
  };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('the SIMD matrix kernels', () => {
  it('are the assembly of gemm.wat, byte for byte', async () => {
    expect(Buffer.from(await assembleKernels()).toString('base64')).toBe(GEMM_WASM_BASE64);
  });

  it.each([
    [3, 5, 4],
    [7, 12, 20],
    [32, 32, 128],
    [5, 1, 36],
  ])('compute C += A·B, Aᵀ·B and A·Bᵀ as the definitions do (m=%i, k=%i, n=%i)', (m, k, n) => {
    const random = mulberry32(m * 100 + k * 10 + n);
    const gemm = createGemm(3 * 8192);
    const { f32 } = gemm;
    const [a, b, c] = [0, 8192, 16384];
    /**
     * Fills A (aSize values), B and C with random numbers, runs `product`, and compares C (rows × cols) with
     * C + Σ_p A(i, p)·B(p, j) over `inner` terms, reading A and B through the given index functions.
     */
    const check = (
      [aSize, bSize, rows, cols, inner]: number[],
      product: () => void,
      aAt: (i: number, p: number) => number,
      bAt: (p: number, j: number) => number,
    ) => {
      f32.set(randomArray(random, aSize!), a);
      f32.set(randomArray(random, bSize!), b);
      const init = randomArray(random, rows! * cols!);
      f32.set(init, c);
      product();
      const expected = Array.from({ length: rows! * cols! }, (_, idx) => {
        const [i, j] = [Math.floor(idx / cols!), idx % cols!];
        let sum = init[idx]!;
        for (let p = 0; p < inner!; p++) sum += f32[a + aAt(i, p)]! * f32[b + bAt(p, j)]!;
        return sum;
      });
      expect(maxAbsDiff(f32.subarray(c, c + rows! * cols!), expected)).toBeLessThan(1e-4);
    };
    // A m×k, B k×n → m×n.
    check([m * k, k * n, m, n, k], () => gemm.nn(a, b, c, m, k, n), (i, p) => i * k + p, (p, j) => p * n + j);
    // Aᵀ·B with A m×k, B m×n → k×n.
    check([m * k, m * n, k, n, m], () => gemm.tn(a, b, c, m, k, n), (p, i) => i * k + p, (i, j) => i * n + j);
    // A·Bᵀ needs an inner dimension in multiples of 4: A m×n, B k×n → m×k.
    check([m * n, k * n, m, k, n], () => gemm.nt(a, b, c, m, n, k), (i, p) => i * n + p, (p, j) => j * n + p);
  });

  it('refuses a vectorised dimension that is not a multiple of 4', () => {
    const gemm = createGemm(1024);
    expect(() => gemm.nn(0, 0, 0, 2, 2, 6)).toThrow('gemm: the vectorised dimension n must be a multiple of 4');
    expect(() => gemm.nt(0, 0, 0, 2, 6, 2)).toThrow('gemm: the vectorised dimension k must be a multiple of 4');
  });
});

describe('the LSTM engine', () => {
  const shape: NetworkShape = { seqLen: 6, nFeatures: 3, hidden: 4, horizon: 2 };

  it('has gradients equal to central finite differences of its own loss', () => {
    const random = mulberry32(5);
    const engine = new LstmEngine(shape, 3);
    engine.setWeights(weightSizes(shape).map((size) => randomArray(random, size, 0.5)));
    const windows = randomArray(random, 3 * shape.seqLen * shape.nFeatures);
    const batch = Int32Array.from([2, 0, 1]);
    const classes = [1, 0, 1];
    const scaled = Array.from(randomArray(random, 3 * shape.horizon));
    const lossAt = () => {
      engine.forward(windows, batch);
      const { crossEntropy, squaredError } = engine.loss(classes, scaled);
      return crossEntropy + squaredError;
    };
    lossAt();
    engine.backward(classes, scaled);
    const analytic = engine.gradients.map((g) => g.slice());
    expect(analytic.every((g) => maxAbs(g) > 0)).toBe(true);

    const h = 1e-2;
    let checked = 0;
    engine.weights.forEach((w, p) => {
      for (let i = 0; i < w.length; i += Math.max(1, Math.floor(w.length / 7))) {
        const saved = w[i]!;
        w[i] = saved + h;
        const up = lossAt();
        w[i] = saved - h;
        const down = lossAt();
        w[i] = saved;
        const numeric = (up - down) / (2 * h);
        expect(Math.abs(numeric - analytic[p]![i]!), `weight ${p}[${i}]`).toBeLessThan(2e-3 + 0.03 * Math.abs(numeric));
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(40);
  });

  it('trains like tfjs’s own layers and Adam: same weights, moments and losses after two epochs', async () => {
    const options = { seqLen: 10, nFeatures: 3, hidden: 8, learningRate: 0.01, seed: 3, dropout: 0 };
    const data = labelled(9, 48, options.seqLen, options.nFeatures, 5);
    const returnScale = 0.01;
    const ours = buildNetwork(options);
    const result = await trainNetwork(ours, data, { epochs: 2, batchSize: 16, seed: 4, returnScale });

    // The same epochs through tfjs: model.fit on the order trainNetwork draws from its seed.
    const theirs = buildNetwork(options);
    const random = mulberry32(4);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      const order = Array.from(permutation(data.x.n, random));
      const x = tf.tensor3d(data.x.data, [data.x.n, options.seqLen, options.nFeatures]).gather(order);
      const direction = tf.oneHot(tf.tensor1d(order.map((i) => data.direction[i]!), 'int32'), 2).toFloat();
      const returns = tf.tensor2d(order.map((i) => Array.from(data.returns[i]!, (r) => r / returnScale)));
      const { history } = await theirs.fit(x, [direction, returns], { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
      losses.push(Number(history.loss![0]));
      tf.dispose([x, direction, returns]);
    }

    const ourWeights = ours.getWeights().map((w) => w.dataSync());
    const theirWeights = theirs.getWeights().map((w) => w.dataSync());
    ourWeights.forEach((w, i) => expect(maxAbsDiff(w, theirWeights[i]!), `weight ${i}`).toBeLessThan(2e-5));
    const [ourIterations, ...ourMoments] = await ours.optimizer.getWeights();
    const [theirIterations, ...theirMoments] = await theirs.optimizer.getWeights();
    expect(ourIterations!.tensor.dataSync()[0]).toBe(6);
    expect(theirIterations!.tensor.dataSync()[0]).toBe(6);
    // Moments are named after each network's own variables, as tfjs names them.
    const momentNames = (model: tf.LayersModel) => ['m', 'v'].flatMap((kind) => model.trainableWeights.map((w) => `${(w.read() as tf.Variable).name}/${kind}`));
    expect(ourMoments.map((m) => m.name)).toEqual(momentNames(ours));
    expect(theirMoments.map((m) => m.name)).toEqual(momentNames(theirs));
    ourMoments.forEach((m, i) => {
      const theirs = theirMoments[i]!.tensor.dataSync();
      expect(maxAbsDiff(m.tensor.dataSync(), theirs), m.name).toBeLessThan(1e-6 + 1e-4 * maxAbs(theirs));
    });
    result.history.forEach((h, i) => expect(Math.abs(h.loss - losses[i]!)).toBeLessThan(1e-5 * losses[i]!));
  });

  it('refuses a batch beyond its capacity and weights of the wrong size', () => {
    const engine = new LstmEngine(shape, 2);
    expect(() => engine.forward(new Float32Array(3 * 6 * 3), [0, 1, 2])).toThrow('LstmEngine: batch of 3 exceeds the capacity 2');
    expect(() => engine.setWeights([new Float32Array(5)])).toThrow('LstmEngine: weight 0 holds 5 values, the network needs 48');
  });
});
