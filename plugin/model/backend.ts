/**
 * Chooses the TensorFlow.js backend: native `@tensorflow/tfjs-node` when it is installed, else WASM, else the
 * pure-JS CPU backend. `LSTM_TF_BACKEND` (or the caller's `preferred`) forces one and fails when it cannot load.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from '../host.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  /** Why this backend: what was requested, or what failed before it. */
  reason: string;
}

export interface InitBackendOptions {
  /** Used when `LSTM_TF_BACKEND` is unset; the environment wins so an operator can override the code. */
  preferred?: BackendName;
  logger?: Logger;
}

const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];
/** A variable, not a literal: the package is optional, so TypeScript must not look for its types. */
const TFJS_NODE: string = '@tensorflow/tfjs-node';

let current: BackendInfo | undefined;
let wasmPathsSet = false;
/** Calls run one after another, so concurrent first calls initialise once. */
let queue: Promise<unknown> = Promise.resolve();

/** The backend `initBackend` settled on, if it has run. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Initialises the backend once and returns the same info on later calls. An explicit request (environment or
 * `preferred`) naming another backend than the current one switches to it, or throws if it cannot load.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const result = queue.then(() => settle(options));
  queue = result.catch(() => undefined);
  return result;
}

async function settle({ preferred, logger }: InitBackendOptions): Promise<BackendInfo> {
  const fromEnv = process.env.LSTM_TF_BACKEND?.trim();
  if (fromEnv && !BACKENDS.includes(fromEnv as BackendName)) {
    throw new Error(`LSTM_TF_BACKEND=${fromEnv} is not a backend: use one of ${BACKENDS.join(', ')}`);
  }
  const requested = (fromEnv || preferred) as BackendName | undefined;
  if (current && (!requested || requested === current.name)) return current;

  let info: BackendInfo;
  if (requested) {
    const source = fromEnv ? `LSTM_TF_BACKEND=${fromEnv}` : `preferred: '${requested}'`;
    try {
      await activate(requested);
    } catch (error) {
      throw new Error(`TensorFlow.js backend '${requested}' (${source}) cannot load: ${message(error)}`);
    }
    info = { name: requested, reason: `requested by ${source}` };
  } else {
    info = await autoSelect();
  }
  current = info;
  logger?.info(`tensorflow.js backend: ${info.name}`, { backend: info.name, reason: info.reason });
  return info;
}

async function autoSelect(): Promise<BackendInfo> {
  const failures: string[] = [];
  for (const name of BACKENDS) {
    try {
      await activate(name);
      // Only the first choice, tfjs-node, can succeed with nothing failed before it.
      return { name, reason: failures.length ? failures.join('; ') : `${TFJS_NODE} is installed (native)` };
    } catch (error) {
      failures.push(`${name} unavailable (${message(error)})`);
    }
  }
  throw new Error(`no TensorFlow.js backend could load: ${failures.join('; ')}`);
}

async function activate(name: BackendName): Promise<void> {
  if (name === 'tensorflow') await import(TFJS_NODE);
  if (name === 'wasm') await configureWasm();
  // setBackend reports an initialisation failure as `false` (after a console warning), not as an exception.
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
}

/** In Node the WASM backend reads its `.wasm` binaries from disk: point it at the installed package. */
async function configureWasm(): Promise<void> {
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  // Paths can only be set before the backend first initialises; a later switch back reuses them.
  if (wasmPathsSet) return;
  const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  setWasmPaths(`${dirname(entry)}/`);
  wasmPathsSet = true;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}
