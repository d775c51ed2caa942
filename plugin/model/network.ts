/**
 * The dual-head LSTM: a window of sessions → LSTM → dropout → a 2-class softmax (direction over the horizon)
 * and a linear head (the return path 1..horizon sessions ahead; its last unit is the horizon return).
 * Training and inference are reproducible on one backend: every random draw comes from the model's seed.
 */
import * as tf from '@tensorflow/tfjs';
import { FORECAST_DAYS } from '../training/constants.js';
import { adamStep, LstmEngine, type AdamSettings, type AdamState, type NetworkShape } from './lstm-engine.js';
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

/** Windows per forward pass at inference: measured fastest here (the per-step working set stays in cache). */
const PREDICT_BATCH = 32;

export const DIRECTION_HEAD = 'direction';
export const RETURNS_HEAD = 'returns';

/** An independent seed for stream `index` of `seed` (one per initialiser, one per dropout step). */
function deriveSeed(seed: number, index: number): number {
  return Math.floor(mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0)() * 2 ** 31);
}

/**
 * Dropout on the LSTM's last output, with a fresh mask at every training step that is still reproducible (tfjs's
 * own Dropout either draws from Math.random or repeats one mask forever). The training engine applies the masks
 * this layer draws; the layer itself passes its input through, which is all inference needs.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  private readonly seed: number;
  /** Training steps taken; saved with the layer so a reloaded network continues the same mask sequence. */
  private step: number;

  constructor(args: { rate: number; seed: number; step?: number; name?: string }) {
    super({ name: args.name });
    this.rate = args.rate;
    this.seed = args.seed;
    this.step = args.step ?? 0;
  }

  /** The next training step's mask over `rows` × `units` outputs: each 0 or 1/(1 − rate); none when rate is 0. */
  nextMask(rows: number, units: number): Float32Array | undefined {
    if (this.rate === 0) return undefined;
    const random = mulberry32(deriveSeed(this.seed, this.step++));
    const kept = 1 / (1 - this.rate);
    return Float32Array.from({ length: rows * units }, () => (random() < this.rate ? 0 : kept));
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(inputs) ? inputs[0]! : inputs;
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
}

/** Validates labelled windows against the network before training starts. */
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
  return { x: data.x, classes, scaled };
}

/** The trainable weights in the order the engine takes them; a network of another shape is refused. */
const WEIGHT_NAMES = [
  'lstm/kernel',
  'lstm/recurrent_kernel',
  'lstm/bias',
  `${DIRECTION_HEAD}/kernel`,
  `${DIRECTION_HEAD}/bias`,
  `${RETURNS_HEAD}/kernel`,
  `${RETURNS_HEAD}/bias`,
];

/** The engine's view of a network: its shape and trainable variables, checked against what the engine computes. */
function engineView(model: tf.LayersModel): { shape: NetworkShape; variables: tf.LayerVariable[] } {
  const variables = model.trainableWeights;
  const names = variables.map((v) => v.originalName);
  if (names.join() !== WEIGHT_NAMES.join()) throw new Error(`network has weights ${names.join(', ')}, expected ${WEIGHT_NAMES.join(', ')}`);
  const lstm = model.getLayer('lstm').getConfig();
  if (lstm.activation !== 'tanh' || lstm.recurrentActivation !== 'hardSigmoid') {
    throw new Error(`network LSTM uses ${lstm.activation}/${lstm.recurrentActivation}; the engine computes tanh/hardSigmoid`);
  }
  const [, seqLen, nFeatures] = model.inputs[0]!.shape as number[];
  return { shape: { seqLen: seqLen!, nFeatures: nFeatures!, hidden: variables[1]!.shape[0]!, horizon: networkHorizon(model) }, variables };
}

function engineFor(model: tf.LayersModel, capacity: number, training: boolean): { engine: LstmEngine; variables: tf.LayerVariable[] } {
  const { shape, variables } = engineView(model);
  const engine = new LstmEngine(shape, capacity, training);
  engine.setWeights(variables.map((v) => v.read().dataSync() as Float32Array));
  return { engine, variables };
}

async function readAdam(model: tf.LayersModel, sizes: number[]): Promise<{ state: AdamState; settings: AdamSettings }> {
  const optimizer = model.optimizer;
  if (!(optimizer instanceof tf.AdamOptimizer)) throw new Error(`network optimizer is ${optimizer?.getClassName()}, the engine runs Adam`);
  const settings = optimizer.getConfig() as unknown as AdamSettings;
  const [iterations, ...saved] = await optimizer.getWeights();
  const count = iterations!.tensor.dataSync()[0]!;
  iterations!.tensor.dispose();
  // A network that has never been trained has no moments yet: they start at zero.
  const moments = saved.length ? saved.map((w) => (w.tensor.dataSync() as Float32Array).slice()) : [...sizes, ...sizes].map((size) => new Float32Array(size));
  return { state: { iterations: count, m: moments.slice(0, sizes.length), v: moments.slice(sizes.length) }, settings };
}

/** Puts trained weights and Adam's state back into the tfjs network, which is what the registry stores. */
async function writeBack(model: tf.LayersModel, variables: tf.LayerVariable[], weights: Float32Array[], adam: AdamState): Promise<void> {
  const tensors = weights.map((w, i) => tf.tensor(w, variables[i]!.shape as number[]));
  variables.forEach((v, i) => v.write(tensors[i]!));
  tf.dispose(tensors);
  const optimizer = model.optimizer;
  const old = await optimizer.getWeights();
  const named = (kind: 'm' | 'v') => adam[kind].map((values, i) => ({ name: `${(variables[i]!.read() as tf.Variable).name}/${kind}`, tensor: tf.tensor(values, variables[i]!.shape as number[]) }));
  const state = [{ name: 'iter', tensor: tf.scalar(adam.iterations, 'int32') }, ...named('m'), ...named('v')];
  await optimizer.setWeights(state);
  tf.dispose([...old, ...state].map((w) => w.tensor));
}

/** Runs every window of `x` through the engine without dropout, `capacity` at a time; `visit` reads each pass. */
function forwardAll(engine: LstmEngine, x: WindowBatch, visit: (start: number, end: number) => void): void {
  for (let start = 0; start < x.n; start += engine.capacity) {
    const end = Math.min(x.n, start + engine.capacity);
    engine.forward(x.data, Int32Array.from({ length: end - start }, (_, i) => start + i));
    visit(start, end);
  }
}

/** Mean cross-entropy + MSE on held-out windows, without dropout. */
function validationLoss(engine: LstmEngine, { x, classes, scaled }: CheckedLabels): number {
  const { horizon } = engine.shape;
  let total = 0;
  forwardAll(engine, x, (start, end) => {
    const loss = engine.loss(classes.subarray(start, end), scaled.subarray(start * horizon, end * horizon));
    total += (loss.crossEntropy + loss.squaredError) * (end - start);
  });
  return total / x.n;
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

  const train = checkLabels(model, data, returnScale, 'trainNetwork');
  const val = validation && checkLabels(model, validation, returnScale, 'trainNetwork validation');
  const { engine, variables } = engineFor(model, Math.min(batchSize, data.x.n), true);
  const { horizon, hidden } = engine.shape;
  const adam = await readAdam(model, variables.map((v) => v.read().size));
  const dropout = model.getLayer('dropout') as SeededDropout;
  const random = mulberry32(seed);
  const classes = new Int32Array(engine.capacity);
  const scaled = new Float32Array(engine.capacity * horizon);
  const history: TrainResult['history'] = [];
  let best: { epoch: number; loss: number; weights: Float32Array[] } | undefined;
  let sinceBest = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = permutation(data.x.n, random);
    let crossEntropy = 0;
    let squaredError = 0;
    for (let start = 0; start < data.x.n; start += batchSize) {
      const batch = order.subarray(start, start + batchSize);
      batch.forEach((sample, b) => {
        classes[b] = train.classes[sample]!;
        scaled.set(train.scaled.subarray(sample * horizon, (sample + 1) * horizon), b * horizon);
      });
      const batchClasses = classes.subarray(0, batch.length);
      const batchScaled = scaled.subarray(0, batch.length * horizon);
      engine.forward(train.x.data, batch, dropout.nextMask(batch.length, hidden));
      const loss = engine.loss(batchClasses, batchScaled);
      crossEntropy += loss.crossEntropy * batch.length;
      squaredError += loss.squaredError * batch.length;
      engine.backward(batchClasses, batchScaled);
      adamStep(engine.weights, engine.gradients, adam.state, adam.settings);
    }
    const valLoss = val && validationLoss(engine, val);
    const info: EpochInfo = {
      epoch,
      epochs,
      loss: (crossEntropy + squaredError) / data.x.n,
      directionLoss: crossEntropy / data.x.n,
      returnsLoss: squaredError / data.x.n,
      ...(valLoss !== undefined && { valLoss }),
    };
    history.push({ epoch, loss: info.loss, ...(valLoss !== undefined && { valLoss }) });
    if (stopEarly) {
      if (!best || valLoss! < best.loss) {
        best = { epoch, loss: valLoss!, weights: engine.weights.map((w) => w.slice()) };
        sinceBest = 0;
      } else {
        sinceBest++;
      }
    }
    if (onEpoch) {
      // The callback sees the network as this epoch left it.
      await writeBack(model, variables, engine.weights, adam.state);
      await onEpoch(info);
    }
    if (stopEarly && sinceBest >= earlyStoppingPatience) break;
  }
  const epochsRun = history.length;
  await writeBack(model, variables, best && best.epoch !== epochsRun ? best.weights : engine.weights, adam.state);
  return { epochsRun, bestEpoch: best?.epoch ?? epochsRun, history };
}

export function predictNetwork(
  model: tf.LayersModel,
  x: WindowBatch,
  options: { returnScale: number; batchSize?: number },
): NetworkPrediction {
  const { returnScale, batchSize = PREDICT_BATCH } = options;
  checkScale(returnScale, 'predictNetwork');
  checkWindows(model, x, 'predictNetwork');
  if (x.n === 0) return { probUp: new Float32Array(0), returns: [] };
  const { engine } = engineFor(model, Math.min(batchSize, x.n), false);
  const { horizon } = engine.shape;
  const probUp = new Float32Array(x.n);
  const returns: number[][] = [];
  forwardAll(engine, x, (start, end) => {
    for (let b = 0; b < end - start; b++) {
      probUp[start + b] = engine.probUp(b);
      returns.push(Array.from({ length: horizon }, (_, u) => Math.fround(engine.predictedReturn(b, u)) * returnScale));
    }
  });
  return { probUp, returns };
}
