/**
 * What every benchmark script prints: one JSON line on stdout (its last line), so `bench/run.ts` can run each
 * script in its own process (peak RSS is per process) and put the figures in one table.
 */
import { availableParallelism } from 'node:os';

export interface BenchRow {
  /** What was measured, e.g. "training, hidden 32". */
  metric: string;
  value: number;
  unit: string;
  /** The target as text, e.g. "< 10 s" or "≥ 1.0× PyTorch". */
  target?: string;
  met?: boolean;
  /** Anything a reader needs to judge the figure: sizes, settings, the reference's figure. */
  detail?: string;
}

export interface BenchOutput {
  bench: string;
  backend: string;
  cores: number;
  rows: BenchRow[];
}

export function printBench(output: Omit<BenchOutput, 'cores'>): void {
  process.stdout.write(`${JSON.stringify({ ...output, cores: availableParallelism() })}\n`);
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
