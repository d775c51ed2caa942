/**
 * Benchmarks 1 and 2: training throughput and inference of the plugin's own network code, on random data of the
 * PyTorch reference's shape (2,000 windows × 60 sessions × 12 features, batch 32, 3 epochs, the first a warm-up),
 * and the latency of one symbol's forecast from its bars (features + one forward pass) on the real S&P 500.
 * With `/usr/bin/python3` and torch installed, the reference runs in the same process tree and the rows carry
 * the ratio plugin / PyTorch.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { DEFAULT_FEATURE_NAMES } from '../plugin/features/frame.js';
import { predictLatest } from '../plugin/forecasting/lstm-forecaster.js';
import { initBackend } from '../plugin/model/backend.js';
import { buildNetwork, predictNetwork, trainNetwork, type WindowBatch } from '../plugin/model/network.js';
import { gaussian, mulberry32 } from '../plugin/model/random.js';
import { buildDataset, fitModel, trainingReference } from '../plugin/training/fit.js';
import { fitCalibration } from '../plugin/skill/calibration-map.js';
import { median, printBench, type BenchRow } from './result.js';
import { fixed, round } from './support/numbers.js';
import { runTorchReference, type TorchFigures } from './support/torch-reference.js';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const SHAPE = { samples: args.quick ? 256 : 2000, seqLen: 60, features: 12, batch: 32, epochs: 3, infer: 500 };
const HIDDEN = [32, 64];
/** Latency is a steady-state figure: the first calls also compile the code they run. */
const WARM_UP_RUNS = 10;
const LATENCY_RUNS = args.quick ? 5 : 50;

function randomWindows(random: () => number, n: number): WindowBatch {
  const data = Float32Array.from({ length: n * SHAPE.seqLen * SHAPE.features }, () => gaussian(random));
  return { data, n, seqLen: SHAPE.seqLen, nFeatures: SHAPE.features };
}

/** Samples per second over the epochs after the first, as the reference measures. */
async function trainingThroughput(hidden: number): Promise<number> {
  const random = mulberry32(hidden);
  const x = randomWindows(random, SHAPE.samples);
  const data = {
    x,
    direction: Array.from({ length: SHAPE.samples }, () => (random() < 0.5 ? 1 : 0)),
    returns: Array.from({ length: SHAPE.samples }, () => Array.from({ length: 5 }, () => 0.01 * gaussian(random))),
  };
  const network = buildNetwork({ seqLen: SHAPE.seqLen, nFeatures: SHAPE.features, hidden, learningRate: 1e-3, seed: 1 });
  const ends: number[] = [];
  const start = performance.now();
  await trainNetwork(network, data, { epochs: SHAPE.epochs, batchSize: SHAPE.batch, seed: 1, returnScale: 0.01, onEpoch: () => void ends.push(performance.now()) });
  network.dispose();
  const epochTimes = ends.map((end, i) => end - (i === 0 ? start : ends[i - 1]!));
  const steady = epochTimes.slice(1);
  return SHAPE.samples / (steady.reduce((a, b) => a + b, 0) / steady.length / 1000);
}

/** Windows per second for one call over `infer` windows (after a warm-up call), and one window's ms. */
function inference(hidden: number): { windowsPerS: number; singleMs: number } {
  const random = mulberry32(100 + hidden);
  const network = buildNetwork({ seqLen: SHAPE.seqLen, nFeatures: SHAPE.features, hidden, learningRate: 1e-3, seed: 1 });
  const batch = randomWindows(random, SHAPE.infer);
  predictNetwork(network, batch, { returnScale: 1 });
  let start = performance.now();
  predictNetwork(network, batch, { returnScale: 1 });
  const windowsPerS = SHAPE.infer / ((performance.now() - start) / 1000);
  const one = randomWindows(random, 1);
  predictNetwork(network, one, { returnScale: 1 });
  start = performance.now();
  for (let i = 0; i < 50; i++) predictNetwork(network, one, { returnScale: 1 });
  const singleMs = (performance.now() - start) / 50;
  network.dispose();
  return { windowsPerS, singleMs };
}

/** Median ms of one forecast from the symbol's full history, as the predict path runs it (model already loaded): features, the forward pass, calibration, dissimilarity. */
async function predictLatency(): Promise<{ medianMs: number; bars: number }> {
  const csv = path.join(import.meta.dirname, '../data/SPX.csv');
  const { bars } = await new CsvBarSource(csv, { strict: true }).load('SPX');
  const dataset = buildDataset('SPX', bars, DEFAULT_FEATURE_NAMES, { start: '2018-01-01' });
  const labelled = dataset.samples.labeled;
  const indices = Array.from({ length: labelled }, (_, i) => i);
  const model = await fitModel(dataset, indices, dataset.samples, {
    params: { lr: 1e-3, hidden: 32, epochs: 1 },
    settings: { dropout: 0.2, seed: 1, batch_size: 32 },
    trainingType: 'fast',
  });
  // What a trained model carries besides its weights: the dissimilarity reference (400 scaled rows) and a
  // calibration map (here fitted to its own training predictions: the cost of applying it, not its quality).
  const own = model.predict(dataset.samples, indices);
  model.metadata.dissimilarity = trainingReference(dataset, indices, model.metadata.scaler);
  model.metadata.calibration = fitCalibration('isotonic', own.probUpRaw, dataset.samples.direction.slice(0, labelled));
  const asOf = bars[bars.length - 1]!.date;
  for (let i = 0; i < WARM_UP_RUNS; i++) predictLatest(model, bars, asOf);
  const times = Array.from({ length: LATENCY_RUNS }, () => {
    const start = performance.now();
    predictLatest(model, bars, asOf);
    return performance.now() - start;
  });
  model.dispose();
  return { medianMs: median(times), bars: bars.length };
}

function ratioRow(metric: string, value: number, unit: string, reference: number | undefined, detail: string): BenchRow {
  if (reference === undefined) return { metric, value: round(value, 1), unit, target: '≥ 1.0× PyTorch', detail: `${detail}; PyTorch reference not available` };
  const ratio = value / reference;
  return { metric, value: round(value, 1), unit, target: '≥ 1.0× PyTorch', met: ratio >= 1, detail: `${detail}; PyTorch ${round(reference, 1)} → ${fixed(ratio, 2)}×` };
}

const backend = await initBackend();
const rows: BenchRow[] = [];
const shapeText = `${SHAPE.samples} windows × ${SHAPE.seqLen} × ${SHAPE.features}, batch ${SHAPE.batch}`;
const reference = new Map<number, TorchFigures | undefined>();
let referenceNote = '';
for (const hidden of HIDDEN) {
  const torch = await runTorchReference({ hidden, ...SHAPE });
  reference.set(hidden, torch.figures);
  referenceNote = torch.note;
  const sps = await trainingThroughput(hidden);
  rows.push(ratioRow(`training, hidden ${hidden}`, sps, 'samples/s', torch.figures?.train_samples_per_s, shapeText));
  const { windowsPerS, singleMs } = inference(hidden);
  rows.push(ratioRow(`batched inference, hidden ${hidden}`, windowsPerS, 'windows/s', torch.figures?.infer_windows_per_s, `${SHAPE.infer} windows in one call`));
  rows.push({
    metric: `one window forward, hidden ${hidden}`,
    value: round(singleMs, 3),
    unit: 'ms',
    detail: torch.figures ? `PyTorch ${torch.figures.single_window_ms} ms` : 'PyTorch reference not available',
  });
}
const latency = await predictLatency();
rows.push({
  metric: 'single-symbol predict (features + model), hidden 32',
  value: round(latency.medianMs, 2),
  unit: 'ms (median)',
  target: '≤ 5 ms',
  met: latency.medianMs <= 5,
  detail: `SPX, ${latency.bars} bars of history; median of ${LATENCY_RUNS} runs after ${WARM_UP_RUNS} warm-up runs`,
});
process.stderr.write(`${referenceNote}\n`);
printBench({ bench: 'network', backend: `engine: wasm-simd kernels; tfjs: ${backend.name}`, rows });
