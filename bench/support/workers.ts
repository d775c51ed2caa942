/**
 * `lstm-signals worker` processes for a benchmark, from the compiled CLI (dist/), as a user runs them: started and
 * waited for until each says it runs, stopped with SIGTERM (it gives its running jobs back and exits) and killed if
 * it does not exit in time. Every started worker is tracked, so `stopAll` (also on SIGINT/SIGTERM of the benchmark)
 * leaves none behind whatever failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { log, REPO_ROOT } from './process.js';

export const CLI = path.join(REPO_ROOT, 'dist/adapters/standalone/cli.js');
const READY = /worker \S+: running up to/;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

const running = new Set<ChildProcess>();

export interface WorkerOptions {
  db: string;
  configFile: string;
  /** BullMQ on this Redis; none: the embedded (database) queue. */
  queueUrl?: string;
  label: string;
}

/** Starts one worker (concurrency 1) and resolves once it logs that it runs, rejecting if it exits or times out first. */
export function startWorker(options: WorkerOptions): Promise<ChildProcess> {
  const args = [CLI, 'worker', '--db', options.db, '--config', options.configFile, '--concurrency', '1', ...(options.queueUrl ? ['--queue-url', options.queueUrl] : [])];
  // The environment must not pick the engine: LSTM_REDIS_URL would override the embedded queue.
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LSTM_REDIS_URL: '' } });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let tail = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.label}: no "running" line within ${START_TIMEOUT_MS / 1000} s: ${tail.trim().slice(-500)}`)), START_TIMEOUT_MS);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-4000);
      if (READY.test(tail)) {
        clearTimeout(timer);
        resolve(child);
      }
      // Failures are what a reader needs; the per-job lines would drown the benchmark's own log.
      for (const line of chunk.split('\n')) if (/ (ERROR|WARN) /.test(line)) log(`${options.label}: ${line}`);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.label} exited (${signal ?? `code ${code}`}) before running: ${tail.trim().slice(-500)}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops every worker this process started. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stop));
}

/** Stops the workers before the benchmark dies of SIGINT or SIGTERM (Ctrl-C, `npm run bench` stopped). */
export function stopWorkersOnSignal(cleanUp: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the workers and cleaning up`);
      void Promise.allSettled([stopAll(), cleanUp()]).finally(() => process.exit(130));
    });
  }
}

/** Null when Redis at `url` answers PING within 2 s, else why not. */
export async function redisProblem(url: string): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The connection's own error (ECONNREFUSED …) says more than the rejected connect ("Connection is closed.").
  let cause: string | undefined;
  redis.on('error', (error: Error) => (cause ??= error.message));
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG' ? null : 'no PONG';
  } catch (error) {
    return cause ?? (error instanceof Error ? error.message : String(error));
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key of the BullMQ queue `name` (its prefix); returns how many. */
export async function deleteQueueKeys(url: string, name: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys = await redis.keys(`${name}:*`);
    return keys.length > 0 ? await redis.del(...keys) : 0;
  } finally {
    redis.disconnect();
  }
}
