/**
 * A walk-forward prediction set for the replay benchmark, built once and kept under bench/.cache/ (gitignored):
 * a real `runWalkForward` over the bundled S&P 500, whose predictions the replay verifies. The cache key covers
 * every input of the build — the data file, the range, the configuration and the migrations (the stored
 * schema) — so a changed input builds a new set; a change of model code alone does not, and the reused set
 * is still real (made point-in-time, verified on replay), only made by the code that built it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CsvBarSource } from '../../adapters/bars/csv.js';
import { BUNDLED_DATA } from '../../adapters/standalone/options.js';
import { createConsoleLogger } from '../../adapters/standalone/logger.js';
import { runWalkForward } from '../../adapters/standalone/walk-forward.js';
import { currentBackend, Store, type PluginConfigInput } from '../../plugin/index.js';
import { log, REPO_ROOT, timed } from './process.js';

const CACHE_DIR = path.join(REPO_ROOT, 'bench', '.cache', 'prediction-sets');
const SPX_FILE = path.join(BUNDLED_DATA, 'SPX.csv');
const SET_FILE = 'set.sqlite';
const META_FILE = 'meta.json';
/** Part of the cache key: bump it when what a cached folder holds (or meta.json's shape) changes. */
const CACHE_FORMAT = 3;

export interface SetSpec {
  /** The backtest's name, i.e. its prediction set. */
  name: string;
  from: string;
  to: string;
  config: PluginConfigInput;
}

export interface SetMeta {
  spec: SetSpec;
  builtAt: string;
  buildSeconds: number;
  /** The TensorFlow.js backend the walk-forward trained and predicted on. */
  backend: string;
  sessions: number;
  /** Training runs of the walk-forward, the initial one included, by "trigger (training type)". */
  trainings: Record<string, number>;
}

export interface CachedSet extends SetMeta {
  /** The SQLite file holding the set; copy it before writing (a replay stores its report in it). */
  file: string;
  /** True when this call built it, false when it was reused from the cache. */
  built: boolean;
}

async function cacheKey(spec: SetSpec): Promise<string> {
  const migrations = (await readdir(path.join(REPO_ROOT, 'migrations'))).sort();
  const inputs = JSON.stringify({ format: CACHE_FORMAT, spec, spx: createHash('sha256').update(await readFile(SPX_FILE)).digest('hex'), migrations });
  return createHash('sha256').update(inputs).digest('hex').slice(0, 16);
}

async function countTrainings(file: string): Promise<Record<string, number>> {
  const store = await Store.open({ url: `sqlite:${file}`, migrate: false });
  try {
    const counts: Record<string, number> = {};
    for (const run of await store.repos.trainingRun.find({ select: { trigger_type: true, training_type: true } })) {
      const kind = `${run.trigger_type} (${run.training_type})`;
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    return counts;
  } finally {
    await store.close();
  }
}

/** Runs the walk-forward into `dir`; returns what the cache records about it. */
async function build(spec: SetSpec, dir: string): Promise<SetMeta> {
  const file = path.join(dir, SET_FILE);
  let done = 0;
  const { value: walk, seconds } = await timed(() =>
    runWalkForward({
      source: new CsvBarSource(SPX_FILE, { strict: true }),
      name: spec.name,
      from: spec.from,
      to: spec.to,
      mode: 'fast',
      dbUrl: `sqlite:${file}`,
      config: spec.config,
      logger: createConsoleLogger('warn'),
      onSession: ({ session }) => {
        if (++done % 250 === 0) log(`walk-forward ${spec.name}: ${done} sessions, at ${session}`);
      },
    }),
  );
  const backend = currentBackend()?.name ?? 'unknown';
  return { spec, builtAt: new Date().toISOString(), buildSeconds: seconds, backend, sessions: walk.sessions, trainings: await countTrainings(file) };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes the folders of builds of `dir` whose process is gone (killed half-way: they never became `dir`). */
async function removeStaleBuilds(dir: string): Promise<void> {
  const prefix = `${path.basename(dir)}.building-`;
  for (const entry of existsSync(CACHE_DIR) ? await readdir(CACHE_DIR) : []) {
    if (entry.startsWith(prefix) && !isRunning(Number(entry.slice(prefix.length)))) await rm(path.join(CACHE_DIR, entry), { recursive: true, force: true });
  }
}

/** The cached set for `spec`, built first when there is none. A build interrupted half-way is never reused. */
export async function cachedPredictionSet(spec: SetSpec): Promise<CachedSet> {
  const dir = path.join(CACHE_DIR, `${spec.name}-${await cacheKey(spec)}`);
  if (existsSync(path.join(dir, META_FILE))) {
    const meta = JSON.parse(await readFile(path.join(dir, META_FILE), 'utf8')) as SetMeta;
    log(`prediction set ${spec.name}: reusing ${path.relative(REPO_ROOT, dir)} (built ${meta.builtAt})`);
    return { ...meta, file: path.join(dir, SET_FILE), built: false };
  }
  // Built beside its final place and renamed into it once complete: the rename is what marks it usable.
  const building = `${dir}.building-${process.pid}`;
  await removeStaleBuilds(dir);
  await mkdir(building, { recursive: true });
  log(`prediction set ${spec.name}: building (walk-forward ${spec.from}..${spec.to}) in ${path.relative(REPO_ROOT, building)}`);
  try {
    const meta = await build(spec, building);
    await writeFile(path.join(building, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    await rename(building, dir);
    return { ...meta, file: path.join(dir, SET_FILE), built: true };
  } finally {
    await rm(building, { recursive: true, force: true });
  }
}
