/**
 * Runs the PyTorch reference (`../shared/bench/torch_reference.py`) with Debian's python, on the same shape and
 * batch as the plugin's figure, at one thread and at every core, and keeps the faster: the plugin is compared
 * with the reference at its best on this machine.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.resolve(import.meta.dirname, '../../../shared/bench/torch_reference.py');

export interface TorchFigures {
  torch: string;
  threads: number;
  train_samples_per_s: number;
  infer_windows_per_s: number;
  single_window_ms: number;
}

export interface TorchShape {
  hidden: number;
  samples: number;
  seqLen: number;
  features: number;
  batch: number;
  epochs: number;
  infer: number;
}

/** The reference's figures, or none with the reason in `note`. */
export async function runTorchReference(shape: TorchShape): Promise<{ figures?: TorchFigures; note: string }> {
  if (!existsSync(PYTHON) || !existsSync(SCRIPT)) return { note: `PyTorch reference not available: ${existsSync(PYTHON) ? SCRIPT : PYTHON} is missing` };
  const threadCounts = [...new Set([1, availableParallelism()])];
  const runs: TorchFigures[] = [];
  for (const threads of threadCounts) {
    const args = [
      SCRIPT, '--hidden', String(shape.hidden), '--threads', String(threads), '--samples', String(shape.samples),
      '--seq-len', String(shape.seqLen), '--features', String(shape.features), '--batch', String(shape.batch),
      '--epochs', String(shape.epochs), '--infer', String(shape.infer),
    ];
    try {
      const { stdout } = await promisify(execFile)(PYTHON, args, { timeout: 600_000 });
      runs.push(JSON.parse(stdout.trim().split('\n').pop()!) as TorchFigures);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n').find((line) => /Error/.test(line)) ?? error.message.split('\n')[0] : String(error);
      return { note: `PyTorch reference not available: ${reason} (apt-get install -y python3-torch)` };
    }
  }
  const best = (key: 'train_samples_per_s' | 'infer_windows_per_s') => runs.reduce((a, b) => (b[key] > a[key] ? b : a));
  const train = best('train_samples_per_s');
  const infer = best('infer_windows_per_s');
  return {
    figures: { torch: train.torch, threads: train.threads, train_samples_per_s: train.train_samples_per_s, infer_windows_per_s: infer.infer_windows_per_s, single_window_ms: Math.min(...runs.map((r) => r.single_window_ms)) },
    note: `PyTorch ${train.torch}, threads tried: ${threadCounts.join(', ')}; best training at ${train.threads}, best inference at ${infer.threads}`,
  };
}
