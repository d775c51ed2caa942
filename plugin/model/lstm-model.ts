/**
 * A trained model as the rest of the plugin sees it: the network plus everything needed to feed it
 * (feature list, scaler, return scale). The metadata travels with the blob in the registry, so a model
 * loaded anywhere predicts exactly what it predicted when it was saved.
 */
import type * as tf from '@tensorflow/tfjs';
import type { FeatureName } from '../features/frame.js';
import { scaleWindows, type ScalerParams } from '../features/scaler.js';
import type { Samples } from '../features/windows.js';
import type { TrainingParams } from '../config.js';
import { applyCalibration, type CalibrationMap } from '../skill/calibration-map.js';
import type { DissimilarityReference } from '../skill/dissimilarity.js';
import type { ModelSkill } from '../skill/model-skill.js';
import { predictNetwork, type WindowBatch } from './network.js';
import { deserializeNetwork, serializeNetwork } from './serialization.js';

export interface ModelMetadata {
  symbol: string;
  featureNames: FeatureName[];
  seqLen: number;
  horizon: number;
  params: TrainingParams;
  dropout: number;
  seed: number;
  /** Scaler fitted on the training rows only. */
  scaler: ScalerParams;
  /** Return targets were divided by this in training; predictions are multiplied back. */
  returnScale: number;
  /** The tfjs backend in use when it was trained (the engine computes the same on every backend; see network.ts). */
  backend: string;
  trainingType: string;
  /** Sessions whose labels the model was fitted on: as-of dates of the first and last training windows. */
  trainedFrom: string;
  trainedThrough: string;
  trainedSamples: number;
  epochsRun: number;
  /** P(up) calibration fitted on the cross-validation's out-of-fold predictions; none for fold models and older versions. */
  calibration?: CalibrationMap;
  /** Out-of-fold conformal scores, (actual − predicted horizon return) / volatility scale, ascending: the conformal levels are read from them. */
  conformalScores?: number[];
  /** The scaled feature rows of the training sessions, for the dissimilarity of a new session. */
  dissimilarity?: DissimilarityReference;
  /** The holdout skill and the gate's verdict (a fine-tuned version carries its parent's, naming the version measured). */
  skill?: ModelSkill;
}

export interface ModelPrediction {
  /** Calibrated with the model's calibration map when it has one, else the network's output. */
  probUp: number[];
  /** The network's own output. */
  probUpRaw: number[];
  /** 1 = up, when probUp > 0.5. */
  direction: number[];
  /** Return path 1..horizon sessions ahead, per sample. */
  returns: number[][];
  /** The horizon return: the last element of each path. */
  magnitude: number[];
}

export class LstmModel {
  constructor(
    readonly network: tf.LayersModel,
    readonly metadata: ModelMetadata,
  ) {}

  static async fromBlob(blob: Uint8Array, metadata: ModelMetadata): Promise<LstmModel> {
    return new LstmModel(await deserializeNetwork(blob), metadata);
  }

  toBlob(): Promise<Buffer> {
    return serializeNetwork(this.network);
  }

  /** The scaled windows of `indices` as one batch; samples must be built with this model's feature list. */
  batch(samples: Samples, indices: readonly number[]): WindowBatch {
    const scaled = scaleWindows(samples.windows, this.metadata.scaler);
    return { data: scaled.tensorData(indices), n: indices.length, seqLen: scaled.seqLen, nFeatures: scaled.nFeatures };
  }

  predictBatch(batch: WindowBatch): ModelPrediction {
    const { probUp, returns } = predictNetwork(this.network, batch, { returnScale: this.metadata.returnScale });
    const raw = Array.from(probUp);
    const map = this.metadata.calibration;
    const up = map ? raw.map((p) => applyCalibration(map, p)) : raw;
    return {
      probUp: up,
      probUpRaw: raw,
      direction: up.map((p) => (p > 0.5 ? 1 : 0)),
      returns,
      magnitude: returns.map((path) => path[path.length - 1]!),
    };
  }

  predict(samples: Samples, indices: readonly number[]): ModelPrediction {
    return this.predictBatch(this.batch(samples, indices));
  }

  dispose(): void {
    this.network.dispose();
  }
}
