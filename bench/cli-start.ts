/**
 * Cold start of the compiled CLI (`dist/`, as an installed package runs it): wall time from process start to exit
 * and peak RSS, median of several runs, for `--help` (loads no plugin), `versions` (the database, no TensorFlow.js)
 * and `predict` on a trained model (everything). Builds dist/ first when a source is newer.
 *
 *   npx tsx bench/cli-start.ts [--quick]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from '../scripts/build.js';
import { median, printBench, type BenchRow } from './result.js';
import { log, REPO_ROOT } from './support/process.js';

const QUICK = process.argv.includes('--quick');
const RUNS = QUICK ? 3 : 7;
const CLI = path.join(REPO_ROOT, 'dist/adapters/standalone/cli.js');
const RSS_HOOK = path.join(import.meta.dirname, 'support/rss-on-exit.mjs');
const run = promisify(execFile);

interface Start {
  seconds: number;
  rssMiB: number;
}

async function start(dir: string, args: string[]): Promise<Start> {
  const rssFile = path.join(dir, 'rss');
  const begin = performance.now();
  await run(process.execPath, ['--import', RSS_HOOK, CLI, ...args], { cwd: dir, env: { ...process.env, LSTM_DB_URL: '', LSTM_BENCH_RSS_FILE: rssFile } });
  const seconds = (performance.now() - begin) / 1000;
  return { seconds, rssMiB: Number(await readFile(rssFile, 'utf8')) / 1024 };
}

async function measure(dir: string, name: string, args: string[], targets?: { seconds: number; rssMiB: number }): Promise<BenchRow[]> {
  await start(dir, args); // the file system's cache warm, as for a user's second call
  const starts: Start[] = [];
  for (let i = 0; i < RUNS; i++) starts.push(await start(dir, args));
  const seconds = median(starts.map((s) => s.seconds));
  const rssMiB = Math.max(...starts.map((s) => s.rssMiB));
  log(`${name}: ${seconds.toFixed(3)} s, ${rssMiB.toFixed(0)} MiB`);
  const detail = `median of ${RUNS} runs, \`lstm-signals ${args.join(' ')}\``;
  return [
    { metric: `${name}: cold start to exit`, value: Number(seconds.toFixed(3)), unit: 's', detail, ...(targets && { target: `< ${targets.seconds} s`, met: seconds < targets.seconds }) },
    { metric: `${name}: peak RSS`, value: Number(rssMiB.toFixed(0)), unit: 'MiB', detail: `highest of ${RUNS} runs`, ...(targets && { target: `< ${targets.rssMiB} MiB`, met: rssMiB < targets.rssMiB }) },
  ];
}

if (build({ ifStale: true })) log('built dist/');
const dir = await mkdtemp(path.join(tmpdir(), 'lstm-bench-cli-'));
try {
  const db = ['--db', `sqlite:${path.join(dir, 'bench.sqlite')}`];
  log('training SPX (fast mode, toy settings) for versions and predict…');
  const config = path.join(dir, 'tiny.json');
  await writeFile(config, JSON.stringify({ training: { fast_params: { lr: 0.003, hidden: 8, epochs: 1 }, importance_repeats: 0, skill_gate: false, arima_baseline: false } }));
  await run(process.execPath, [CLI, 'train', '--symbol', 'SPX', ...db, '--config', config], { cwd: dir });
  const rows = [
    ...(await measure(dir, '--help', ['--help'], { seconds: 0.5, rssMiB: 80 })),
    ...(await measure(dir, 'versions', ['versions', ...db])),
    ...(await measure(dir, 'predict', ['predict', '--symbol', 'SPX', ...db, '--config', config])),
  ];
  printBench({ bench: 'cli-start', backend: 'wasm', rows });
} finally {
  await rm(dir, { recursive: true, force: true });
}
