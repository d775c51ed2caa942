/**
 * The dual-head LSTM: a window of sessions → LSTM → dropout → a 2-class softmax (direction over the horizon)
 * and a linear head (the return path 1..horizon sessions ahead; its last unit is the horizon return).
 * Training and inference are reproducible on one backend: every random draw comes from the model's seed.
 */
import * as tf from '@tensorflow/tfjs';
import { FORECAST_DAYS } from '../training/constants.js';
import { mulberry32, permutation } from './random.js';

/** `n` windows of `seqLen` sessions × `nFeatures`, sample-major then session then feature, in one buffer. */
export interface WindowBatch {
  data: Float32Array;
  n: number;
  seqLen: number;
  nFeatures: number;
}

export interface NetworkOptions {
  seqLen: number;
  nFeatures: number;
  hidden: number;
  /** Dropout rate on the LSTM's last output, in [0, 1). */
  dropout?: number;
  learningRate: number;
  seed: number;
  /** Units of the returns head: the return 1..horizon sessions ahead. */
  horizon?: number;
}

/** Windows with their labels: direction 1 = up, 0 = not up; returns[i] is sample i's 1..horizon return path. */
export interface LabelledWindows {
  x: WindowBatch;
  direction: ArrayLike<number>;
  returns: ArrayLike<number>[];
}

/** Losses are those of the scaled targets the network is trained on (returns ÷ returnScale). */
export interface EpochInfo {
  /** 1-based. */
  epoch: number;
  epochs: number;
  loss: number;
  directionLoss: number;
  returnsLoss: number;
  valLoss?: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  /** Seeds the per-epoch shuffle. */
  seed: number;
  /** Return targets are divided by this before training, so they weigh like the cross-entropy. */
  returnScale: number;
  validation?: LabelledWindows;
  /** With `validation`: stop after this many epochs without a lower validation loss, keeping the best weights. */
  earlyStoppingPatience?: number;
  onEpoch?: (info: EpochInfo) => void | Promise<void>;
}

export interface TrainResult {
  epochsRun: number;
  /** The epoch whose weights the model holds: the best validation epoch under early stopping, else the last. */
  bestEpoch: number;
  history: Array<{ epoch: number; loss: number; valLoss?: number }>;
}

export interface NetworkPrediction {
  /** Softmax probability of "up", per window. */
  probUp: Float32Array;
  /** Predicted return path per window, in return units (scaled back). */
  returns: number[][];
}

/** Windows per forward pass at inference and validation: larger batches amortise per-call overhead. */
const PREDICT_BATCH = 256;

export const DIRECTION_HEAD = 'direction';
export const RETURNS_HEAD = 'returns';

/** An independent seed for stream `index` of `seed` (one per initialiser, one per dropout step). */
function deriveSeed(seed: number, index: number): number {
  return Math.floor(mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0)() * 2 ** 31);
}

/**
 * Dropout with a fresh mask at every training step that is still reproducible. tfjs's own Dropout either uses
 * Math.random (unseeded) or, given a seed, draws the very same mask at every step.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  private readonly rate: number;
  private readonly seed: number;
  /** Training steps taken; saved with the layer so a reloaded network continues the same mask sequence. */
  private step: number;

  constructor(args: { rate: number; seed: number; step?: number; name?: string }) {
    super({ name: args.name });
    this.rate = args.rate;
    this.seed = args.seed;
    this.step = args.step ?? 0;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (!kwargs.training || this.rate === 0) return input;
    return tf.dropout(input, this.rate, undefined, deriveSeed(this.seed, this.step++));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed, step: this.step };
  }
}
tf.serialization.registerClass(SeededDropout);

function orthogonal(seed: number) {
  // tfjs warns on every matrix above 2,000 elements; the recurrent kernel (hidden × 4·hidden) is one QR, cheap here.
  return Object.assign(tf.initializers.orthogonal({ seed }), { ELEMENTS_WARN_SLOW: Infinity });
}

export function buildNetwork(options: NetworkOptions): tf.LayersModel {
  const { seqLen, nFeatures, hidden, dropout = 0.2, learningRate, seed, horizon = FORECAST_DAYS } = options;
  for (const [name, value] of Object.entries({ seqLen, nFeatures, hidden, horizon })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`buildNetwork: ${name} must be a positive integer, got ${value}`);
  }
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`buildNetwork: dropout must be in [0, 1), got ${dropout}`);
  if (!(learningRate > 0)) throw new Error(`buildNetwork: learningRate must be positive, got ${learningRate}`);
  if (!Number.isInteger(seed)) throw new Error(`buildNetwork: seed must be an integer, got ${seed}`);

  const glorot = (index: number) => tf.initializers.glorotUniform({ seed: deriveSeed(seed, index) });
  const input = tf.input({ shape: [seqLen, nFeatures], name: 'window' });
  const last = tf.layers
    .lstm({
      units: hidden,
      name: 'lstm',
      kernelInitializer: glorot(0),
      recurrentInitializer: orthogonal(deriveSeed(seed, 1)),
    })
    .apply(input) as tf.SymbolicTensor;
  const dropped = new SeededDropout({ rate: dropout, seed: deriveSeed(seed, 2), name: 'dropout' }).apply(last) as tf.SymbolicTensor;
  const direction = tf.layers
    .dense({ units: 2, activation: 'softmax', name: DIRECTION_HEAD, kernelInitializer: glorot(3) })
    .apply(dropped) as tf.SymbolicTensor;
  const returns = tf.layers
    .dense({ units: horizon, name: RETURNS_HEAD, kernelInitializer: glorot(4) })
    .apply(dropped) as tf.SymbolicTensor;

  const model = tf.model({ inputs: input, outputs: [direction, returns], name: 'lstm_signals' });
  model.compile({
    optimizer: tf.train.adam(learningRate),
    loss: { [DIRECTION_HEAD]: 'categoricalCrossentropy', [RETURNS_HEAD]: 'meanSquaredError' },
  });
  return model;
}

/** The returns head's width: how many sessions ahead the network forecasts. */
export function networkHorizon(model: tf.LayersModel): number {
  return model.outputs[1]!.shape[1]!;
}

function checkWindows(model: tf.LayersModel, batch: WindowBatch, what: string): void {
  const { data, n, seqLen, nFeatures } = batch;
  const [, modelSeqLen, modelFeatures] = model.inputs[0]!.shape;
  if (seqLen !== modelSeqLen || nFeatures !== modelFeatures) {
    throw new Error(`${what}: windows are ${seqLen}×${nFeatures}, the network takes ${modelSeqLen}×${modelFeatures}`);
  }
  if (data.length !== n * seqLen * nFeatures) {
    throw new Error(`${what}: window data holds ${data.length} values, ${n}×${seqLen}×${nFeatures} needs ${n * seqLen * nFeatures}`);
  }
}

function windowTensor(batch: WindowBatch): tf.Tensor3D {
  return tf.tensor3d(batch.data, [batch.n, batch.seqLen, batch.nFeatures]);
}

function checkScale(returnScale: number, what: string): void {
  if (!(returnScale > 0 && Number.isFinite(returnScale))) {
    throw new Error(`${what}: returnScale must be a positive finite number, got ${returnScale}`);
  }
}

interface CheckedLabels {
  x: WindowBatch;
  classes: Int32Array;
  /** Returns ÷ returnScale, row-major n × horizon. */
  scaled: Float32Array;
  horizon: number;
}

/** Validates labelled windows against the network, before any tensor exists that an error would leak. */
function checkLabels(model: tf.LayersModel, data: LabelledWindows, returnScale: number, what: string): CheckedLabels {
  checkWindows(model, data.x, what);
  const { n } = data.x;
  const horizon = networkHorizon(model);
  if (data.direction.length !== n || data.returns.length !== n) {
    throw new Error(`${what}: ${n} windows but ${data.direction.length} directions and ${data.returns.length} return paths`);
  }
  const classes = new Int32Array(n);
  const scaled = new Float32Array(n * horizon);
  for (let i = 0; i < n; i++) {
    const up = data.direction[i];
    if (up !== 0 && up !== 1) throw new Error(`${what}: direction[${i}] is ${up}, expected 0 or 1`);
    classes[i] = up;
    const path = data.returns[i]!;
    if (path.length !== horizon) throw new Error(`${what}: returns[${i}] has ${path.length} values, the network forecasts ${horizon}`);
    for (let h = 0; h < horizon; h++) scaled[i * horizon + h] = path[h]! / returnScale;
  }
  return { x: data.x, classes, scaled, horizon };
}

/** Input, one-hot direction and scaled returns; the caller disposes them. */
function labelledTensors({ x, classes, scaled, horizon }: CheckedLabels): { x: tf.Tensor3D; ys: tf.Tensor[] } {
  return tf.tidy(() => ({
    x: windowTensor(x),
    ys: [tf.oneHot(tf.tensor1d(classes, 'int32'), 2).toFloat(), tf.tensor2d(scaled, [x.n, horizon])],
  }));
}

/**
 * Cross-entropy + MSE on held-out windows, as in training but without dropout. Computed here because tfjs 4's
 * validation for multi-output models reports the first head's loss as `val_loss`.
 */
function validationLoss(model: tf.LayersModel, val: { x: tf.Tensor; ys: tf.Tensor[] }): number {
  return tf.tidy(() => {
    const [direction, returns] = model.predict(val.x, { batchSize: PREDICT_BATCH }) as tf.Tensor[];
    const crossEntropy = tf.metrics.categoricalCrossentropy(val.ys[0]!, direction!).mean();
    return crossEntropy.add(tf.metrics.meanSquaredError(val.ys[1]!, returns!).mean()).dataSync()[0]!;
  });
}

export async function trainNetwork(model: tf.LayersModel, data: LabelledWindows, options: TrainOptions): Promise<TrainResult> {
  const { epochs, batchSize = 32, seed, returnScale, validation, earlyStoppingPatience, onEpoch } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`trainNetwork: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`trainNetwork: batchSize must be a positive integer, got ${batchSize}`);
  if (data.x.n === 0) throw new Error('trainNetwork: no training windows');
  checkScale(returnScale, 'trainNetwork');
  const stopEarly = earlyStoppingPatience !== undefined;
  if (stopEarly && !validation) throw new Error('trainNetwork: earlyStoppingPatience needs a validation set');
  if (stopEarly && !(Number.isInteger(earlyStoppingPatience) && earlyStoppingPatience >= 1)) {
    throw new Error(`trainNetwork: earlyStoppingPatience must be a positive integer, got ${earlyStoppingPatience}`);
  }

  const checkedTrain = checkLabels(model, data, returnScale, 'trainNetwork');
  const checkedVal = validation && checkLabels(model, validation, returnScale, 'trainNetwork validation');
  const train = labelledTensors(checkedTrain);
  const val = checkedVal && labelledTensors(checkedVal);
  const random = mulberry32(seed);
  const history: TrainResult['history'] = [];
  let best: { epoch: number; loss: number; weights: tf.Tensor[] } | undefined;
  let sinceBest = 0;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      // tfjs's own shuffle draws from Math.random; a seeded permutation keeps runs reproducible.
      const order = tf.tensor1d(permutation(data.x.n, random), 'int32');
      const [x, ...ys] = [train.x, ...train.ys].map((t) => tf.gather(t, order));
      order.dispose();
      let logs: tf.History['history'];
      try {
        ({ history: logs } = await model.fit(x, ys, { epochs: 1, batchSize, shuffle: false, verbose: 0 }));
      } finally {
        tf.dispose([x!, ...ys]);
      }
      const valLoss = val && validationLoss(model, val);
      const info: EpochInfo = {
        epoch,
        epochs,
        loss: Number(logs.loss![0]),
        directionLoss: Number(logs[`${DIRECTION_HEAD}_loss`]![0]),
        returnsLoss: Number(logs[`${RETURNS_HEAD}_loss`]![0]),
        ...(valLoss !== undefined && { valLoss }),
      };
      history.push({ epoch, loss: info.loss, ...(valLoss !== undefined && { valLoss }) });
      await onEpoch?.(info);

      if (stopEarly) {
        if (!best || valLoss! < best.loss) {
          tf.dispose(best?.weights);
          best = { epoch, loss: valLoss!, weights: model.getWeights().map((w) => w.clone()) };
          sinceBest = 0;
        } else if (++sinceBest >= earlyStoppingPatience) {
          break;
        }
      }
    }
    const epochsRun = history.length;
    if (best && best.epoch !== epochsRun) model.setWeights(best.weights);
    return { epochsRun, bestEpoch: best?.epoch ?? epochsRun, history };
  } finally {
    tf.dispose([train.x, ...train.ys, ...(val ? [val.x, ...val.ys] : []), ...(best?.weights ?? [])]);
  }
}

export function predictNetwork(
  model: tf.LayersModel,
  x: WindowBatch,
  options: { returnScale: number; batchSize?: number },
): NetworkPrediction {
  const { returnScale, batchSize = PREDICT_BATCH } = options;
  checkScale(returnScale, 'predictNetwork');
  const horizon = networkHorizon(model);
  checkWindows(model, x, 'predictNetwork');
  if (x.n === 0) return { probUp: new Float32Array(0), returns: [] };
  const [up, path] = tf.tidy(() => {
    const [direction, returns] = model.predict(windowTensor(x), { batchSize }) as tf.Tensor[];
    return [direction!.slice([0, 1], [-1, 1]).reshape([-1]), returns!];
  });
  try {
    const flat = path!.dataSync();
    return {
      probUp: up!.dataSync() as Float32Array,
      returns: Array.from({ length: x.n }, (_, i) => Array.from(flat.subarray(i * horizon, (i + 1) * horizon), (r) => r * returnScale)),
    };
  } finally {
    tf.dispose([up!, path!]);
  }
}
