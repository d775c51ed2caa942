/** One model fit and its scoring: the building blocks every training mode (and the leakage tests) use. */
import type { DailyBar } from '../bar.js';
import type { TrainingParams, TrainingSettings } from '../config.js';
import { buildFeatureFrame, type FeatureFrame, type FeatureName } from '../features/frame.js';
import { fitScalerForSamples, type ScalerParams } from '../features/scaler.js';
import { buildSamples, type Samples } from '../features/windows.js';
import { currentBackend } from '../model/backend.js';
import { LstmModel } from '../model/lstm-model.js';
import { buildNetwork, trainNetwork, type EpochInfo } from '../model/network.js';
import { dissimilarityReference, type DissimilarityReference } from '../skill/dissimilarity.js';
import { evaluate, type HoldoutMetrics } from './metrics.js';

/** A symbol's feature frame and the samples built from it. */
export interface Dataset {
  symbol: string;
  frame: FeatureFrame;
  samples: Samples;
}

/** Labels per sample: direction (1 = up), horizon return and the 1..horizon return path. */
export interface Labels {
  direction: readonly number[];
  magnitude: readonly number[];
  path: readonly (readonly number[])[];
}

export const pick = <T>(values: readonly T[], indices: readonly number[]) => indices.map((i) => values[i]!);
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const std = (values: readonly number[]) => {
  const m = mean(values);
  return Math.sqrt(mean(values.map((v) => (v - m) ** 2)));
};

/** The dataset of `bars` dated `start`..`end` (either optional). */
export function buildDataset(symbol: string, bars: readonly DailyBar[], featureNames: readonly string[], range: { start?: string; end?: string } = {}): Dataset {
  const inRange = bars.filter((b) => (!range.start || b.date >= range.start) && (!range.end || b.date <= range.end));
  if (inRange.length === 0) throw new Error(`${symbol}: no bars between ${range.start ?? 'the first'} and ${range.end ?? 'the last'} session`);
  const frame = buildFeatureFrame(inRange, featureNames as FeatureName[]);
  return { symbol, frame, samples: buildSamples(frame) };
}

export interface FitOptions {
  params: TrainingParams;
  settings: Pick<TrainingSettings, 'dropout' | 'seed' | 'batch_size'>;
  trainingType: string;
  onEpoch?: (info: EpochInfo) => void;
}

/** Trains a fresh network on the samples `indices`, with a scaler fitted on the rows they cover and nothing later. */
export async function fitModel(dataset: Dataset, indices: readonly number[], labels: Labels, options: FitOptions): Promise<LstmModel> {
  const { frame, samples } = dataset;
  const { params, settings } = options;
  const scaler = fitScalerForSamples(frame, samples, indices);
  const returnScale = std(pick(labels.magnitude, indices)) || 1;
  const network = buildNetwork({
    seqLen: samples.seqLen,
    nFeatures: samples.windows.nFeatures,
    hidden: params.hidden,
    dropout: settings.dropout,
    learningRate: params.lr,
    seed: settings.seed,
    horizon: samples.horizon,
  });
  const model = new LstmModel(network, {
    symbol: dataset.symbol,
    featureNames: [...samples.windows.featureNames],
    seqLen: samples.seqLen,
    horizon: samples.horizon,
    params,
    dropout: settings.dropout,
    seed: settings.seed,
    scaler,
    returnScale,
    backend: currentBackend()?.name ?? 'unknown',
    trainingType: options.trainingType,
    trainedFrom: samples.asOf[indices[0]!]!,
    trainedThrough: samples.asOf[indices[indices.length - 1]!]!,
    trainedSamples: indices.length,
    epochsRun: 0,
  });
  try {
    const result = await trainNetwork(
      network,
      { x: model.batch(samples, indices), direction: pick(labels.direction, indices), returns: pick(labels.path, indices) },
      { epochs: params.epochs, batchSize: settings.batch_size, seed: settings.seed, returnScale, ...(options.onEpoch && { onEpoch: options.onEpoch }) },
    );
    model.metadata.epochsRun = result.epochsRun;
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The model's metrics on the samples `indices` against `labels`. */
export function scoreModel(model: LstmModel, samples: Samples, indices: readonly number[], labels: Labels): HoldoutMetrics {
  const p = model.predict(samples, indices);
  return evaluate({
    actualDirection: pick(labels.direction, indices),
    predictedDirection: p.direction,
    actualReturn: pick(labels.magnitude, indices),
    predictedReturn: p.magnitude,
  });
}

/** The dissimilarity reference of a model: its scaled feature rows at the as-of sessions of its training samples. */
export function trainingReference(dataset: Dataset, indices: readonly number[], scaler: ScalerParams): DissimilarityReference {
  const { frame, samples } = dataset;
  return dissimilarityReference(indices.map((i) => frame.rows[samples.endIndex[i]!]!.map((x, j) => (x - scaler.mean[j]!) / scaler.std[j]!)));
}
