/**
 * A network as one self-describing blob, the bytes the registry stores:
 *
 *   [4 bytes: header length H, big-endian] [H bytes: UTF-8 JSON header] [weight bytes]
 *
 * The header is `{ format, version, modelTopology, weightSpecs, trainingConfig, weightsSha256 }`; the weights
 * are tfjs's raw little-endian tensor data in `weightSpecs` order. The optimizer's state is included, so a loaded
 * network resumes training exactly where the saved one stopped. Loading checks every part before tfjs sees it,
 * so a foreign or damaged blob fails with one clear error.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
// Network topologies name the SeededDropout layer, which that module registers.
import './network.js';

const FORMAT = 'lstm-signals/network';
const VERSION = 1;
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

interface BlobHeader {
  format: string;
  version: number;
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  trainingConfig?: tf.io.TrainingConfig;
  weightsSha256: string;
}

export async function serializeNetwork(model: tf.LayersModel): Promise<Buffer> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer: true },
  );
  const { modelTopology, weightSpecs = [], weightData, trainingConfig } = saved!;
  const weights = Buffer.from(tf.io.CompositeArrayBuffer.join(weightData));
  const header: BlobHeader = {
    format: FORMAT,
    version: VERSION,
    modelTopology: modelTopology as object,
    weightSpecs,
    ...(trainingConfig && { trainingConfig }),
    weightsSha256: sha256(weights),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([length, json, weights]);
}

export async function deserializeNetwork(blob: Uint8Array): Promise<tf.LayersModel> {
  const { header, weights } = parseBlob(blob);
  const { modelTopology, weightSpecs, trainingConfig } = header;
  // An own copy: a Buffer is often a view into a larger pooled ArrayBuffer.
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData, trainingConfig }));
  } catch (error) {
    throw notAModel(`its network cannot be rebuilt (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
}

function parseBlob(blob: Uint8Array): { header: BlobHeader; weights: Uint8Array } {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (bytes.length < 4) throw notAModel(`${bytes.length} bytes is too short for a header`);
  const headerLength = bytes.readUInt32BE(0);
  if (4 + headerLength > bytes.length) {
    throw notAModel(`its header length ${headerLength} overruns the ${bytes.length}-byte blob`);
  }
  let header: Partial<BlobHeader>;
  try {
    header = JSON.parse(bytes.toString('utf8', 4, 4 + headerLength)) as Partial<BlobHeader>;
  } catch {
    throw notAModel('its header is not JSON');
  }
  if (header?.format !== FORMAT) throw notAModel(`its header names format ${JSON.stringify(header?.format)}, not "${FORMAT}"`);
  if (header.version !== VERSION) throw notAModel(`format version ${header.version} is not supported (this build reads ${VERSION})`);
  if (typeof header.modelTopology !== 'object' || header.modelTopology === null || !Array.isArray(header.weightSpecs)) {
    throw notAModel('its header lacks the topology or the weight specs');
  }
  const weights = bytes.subarray(4 + headerLength);
  const expected = header.weightSpecs.reduce((sum, spec) => sum + specBytes(spec), 0);
  if (weights.length !== expected) throw notAModel(`it holds ${weights.length} weight bytes, its specs describe ${expected}`);
  if (sha256(weights) !== header.weightsSha256) throw notAModel('its weights do not match their checksum');
  return { header: header as BlobHeader, weights };
}

function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const size = DTYPE_BYTES[spec?.dtype];
  if (size === undefined || spec.quantization) throw notAModel(`weight ${spec?.name} has unsupported dtype ${spec?.dtype}`);
  if (!Array.isArray(spec.shape) || !spec.shape.every((dim) => Number.isInteger(dim) && dim >= 0)) {
    throw notAModel(`weight ${spec.name} has shape ${JSON.stringify(spec.shape)}`);
  }
  return spec.shape.reduce((product, dim) => product * dim, size);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function notAModel(reason: string): Error {
  return new Error(`model blob is not an lstm-signals model: ${reason}`);
}
