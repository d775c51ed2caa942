/**
 * A training killed with SIGKILL at each of its stages: the database must never hold a current model without its
 * run row, a current model whose bytes fail their checksum, or lose the model that was current before. The child
 * (test/support/train-process.ts) kills itself at the stage named; the databases are a SQLite file and a
 * MariaDB/MySQL scratch database.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry, resolveConfig, Store, Trainer, type TrainingMode } from '../../plugin/index.js';
import { sharedDatabases, useSharedDatabase } from '../support/shared-databases.js';
import type { CrashStage } from '../support/train-process.js';
import { spxBars } from '../support/spx.js';
import { TINY_TRAINING } from '../support/tiny-training.js';

/** Runs the training child to its end; resolves with the signal that ended it and what it printed. */
function trainAndDie(url: string, symbol: string, mode: TrainingMode, stage: CrashStage = 'run-record'): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../support/train-process.ts'), url, symbol, mode, stage], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ signal, code, stdout, stderr })));
}

describe.each(sharedDatabases)('kill -9: a training killed mid-way on $name', (db) => {
  const database = useSharedDatabase(db);
  let store: Store;
  beforeAll(() => void (store = database.store()));

  const { feature_names, training } = resolveConfig({ training: TINY_TRAINING });
  const train = async (symbol: string, mode: TrainingMode) =>
    new Trainer(store).train({ symbol, bars: (await spxBars()).slice(-900).map((b) => ({ ...b, symbol })), mode, trigger: 'manual', featureNames: feature_names, settings: training });
  /** The symbol's current version and the versions its run rows name. */
  const state = async (symbol: string) => ({
    current: (await store.repos.currentVersion.findOneBy({ symbol }))?.version_id ?? null,
    runs: (await store.repos.trainingRun.find({ where: { symbol }, order: { id: 'ASC' } })).map((r) => r.version_id),
  });

  it('between deploying and recording its run, a first model: no current version without its run row; the next training deploys and records normally', async () => {
    const killed = await trainAndDie(database.url(), 'KFIRST', 'fast');
    expect(killed.stdout, killed.stderr).toContain('killing myself deployed, before the run record');
    expect(killed.signal).toBe('SIGKILL');
    const after = await state('KFIRST');
    // Both or neither: a current version is one with a run row.
    expect(after.runs).toEqual(after.current ? [after.current] : []);

    const next = await train('KFIRST', 'fast');
    expect(next.deployed).toBe(true);
    expect(await state('KFIRST')).toEqual({ current: next.versionId, runs: [...after.runs, next.versionId] });
  });

  it('between deploying and recording its run, an incremental fine-tune: the current version is the one before with its run, or the new one with its run', async () => {
    const first = await train('KINCR', 'fast');
    const killed = await trainAndDie(database.url(), 'KINCR', 'incremental');
    expect(killed.stdout, killed.stderr).toContain('killing myself deployed, before the run record');
    expect(killed.signal).toBe('SIGKILL');
    const after = await state('KINCR');
    expect(after.current === first.versionId ? after.runs : after.runs.slice(0, 1)).toEqual([first.versionId]);
    expect(after.runs.at(-1)).toBe(after.current);
  });

  it.each([
    ['fast', 'cv'],
    ['fast', 'refit'],
    ['fast', 'holdout'],
    ['incremental', 'incremental'],
  ] as const)('a retraining in %s mode killed in stage %s leaves the model before it current, whole, with its run row', async (mode, stage) => {
    const symbol = `K${mode.slice(0, 3).toUpperCase()}${stage.slice(0, 3).toUpperCase()}`;
    const before = await train(symbol, 'fast');
    const killed = await trainAndDie(database.url(), symbol, mode, stage);
    expect(killed.stdout, killed.stderr).toContain(`killing myself in stage ${stage}`);
    expect(killed.signal).toBe('SIGKILL');

    expect(await state(symbol)).toEqual({ current: before.versionId, runs: [before.versionId] });
    // Whole: its bytes still pass their checksum.
    expect((await new ModelRegistry(store).loadBlob(before.versionId)).version.version_id).toBe(before.versionId);

    // And the next training goes on as if nothing had happened.
    const next = await train(symbol, mode);
    expect((await state(symbol)).runs).toEqual([before.versionId, next.versionId]);
  });
});
