/**
 * Plumbing the benchmark scripts share: stderr logging (stdout carries only the result line), timing, and the
 * child processes that run a measured step alone, so its peak RSS is not inflated by the set-up before it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { peakRssMiB } from '../result.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Every line a benchmark logs goes to stderr: its stdout is the JSON result `bench/run.ts` parses. */
export function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - start) / 1000 };
}

/** What every measured child reports besides its own figures. */
export interface ChildFigures {
  /** Peak RSS of the child process, in MiB. */
  peakRssMiB: number;
  /** From the child's start (module loading included) to its report, in seconds. */
  processSeconds: number;
}

/** A child's last act: its figures as one JSON line on stdout, which `runChild` reads. */
export function reportToParent<T extends object>(figures: T): void {
  const own: ChildFigures = { peakRssMiB: peakRssMiB(), processSeconds: performance.now() / 1000 };
  process.stdout.write(`${JSON.stringify({ ...figures, ...own })}\n`);
}

/**
 * Runs a TypeScript file in its own Node process (through tsx, as the CLI runs) and returns the JSON line it
 * ends its stdout with. Its stderr is passed through; stray stdout lines are too, on stderr.
 */
export function runScript<T>(scriptPath: string, args: readonly string[]): Promise<T> {
  const script = path.relative(REPO_ROOT, scriptPath);
  const child = spawn(process.execPath, ['--import', 'tsx', scriptPath, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = stdout.trimEnd().split('\n');
      const last = lines.pop() ?? '';
      if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} ended without a JSON report (last stdout line: ${JSON.stringify(last)})`));
      }
    });
  });
}

/** Runs a child script of bench/support that reports with `reportToParent`. */
export function runChild<T extends object>(script: string, args: readonly string[]): Promise<T & ChildFigures> {
  return runScript<T & ChildFigures>(path.join(import.meta.dirname, script), args);
}
