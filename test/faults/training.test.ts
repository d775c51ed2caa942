/**
 * A training killed with SIGKILL at each of its stages: the database must never hold a current model without its
 * run row, a current model whose bytes fail their checksum, or lose the model that was current before. A version it
 * saved stays a `candidate` that never becomes current, and the symbol's next training discards it with one failure
 * row. The child
 * (test/support/train-process.ts) kills itself at the stage named; the databases are a SQLite file and a
 * MariaDB/MySQL scratch database.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../plugin/config.js';
import { ModelRegistry } from '../../plugin/registry/model-registry.js';
import { TrainingLog } from '../../plugin/registry/training-log.js';
import type { Store } from '../../plugin/store/store.js';
import { Trainer, type TrainingMode } from '../../plugin/training/trainer.js';
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
  /**
   * The versions the killed training left: `expected` of them (a full or fast training saves its candidate before the
   * holdout), each a candidate that is not current and that rollback refuses; no failure row yet (SIGKILL records none).
   */
  const abandoned = async (symbol: string, expected: number) => {
    const { current, runs } = await state(symbol);
    const left = (await new ModelRegistry(store).list(symbol)).filter((v) => !runs.includes(v.version_id));
    expect(left.map((v) => [v.status, v.version_id === current])).toEqual(Array.from({ length: expected }, () => ['candidate', false]));
    for (const v of left) await expect(new ModelRegistry(store).promote(symbol, v.version_id)).rejects.toThrow(`model version ${v.version_id} is a candidate`);
    expect(await new TrainingLog(store).failures(symbol)).toEqual([]);
    return left.map((v) => v.version_id);
  };
  /** After the next training: the leftovers are gone, each with exactly one failure row, and every kept version was deployed. */
  const discarded = async (symbol: string, leftovers: readonly string[]) => {
    const versions = await new ModelRegistry(store).list(symbol);
    expect(versions.filter((v) => leftovers.includes(v.version_id))).toEqual([]);
    expect(versions.map((v) => v.status)).toEqual(versions.map(() => 'deployed'));
    const failures = await new TrainingLog(store).failures(symbol);
    expect(failures.map((f) => f.error_message).sort()).toEqual(leftovers.map((v) => `worker died during training: candidate ${v} never got its holdout decision`).sort());
  };

  it('between deploying and recording its run, a first model: no current version without its run row; the next training deploys and records normally', async () => {
    const killed = await trainAndDie(database.url(), 'KFIRST', 'fast');
    expect(killed.stdout, killed.stderr).toContain('killing myself deployed, before the run record');
    expect(killed.signal).toBe('SIGKILL');
    const after = await state('KFIRST');
    // Neither: the deploy rolled back with the run record, leaving the version a candidate.
    expect(after).toEqual({ current: null, runs: [] });
    const leftovers = await abandoned('KFIRST', 1);

    const next = await train('KFIRST', 'fast');
    expect(next.deployed).toBe(true);
    expect(await state('KFIRST')).toEqual({ current: next.versionId, runs: [next.versionId] });
    await discarded('KFIRST', leftovers);
  });

  it('between deploying and recording its run, an incremental fine-tune: the current version is the one before with its run, or the new one with its run', async () => {
    const first = await train('KINCR', 'fast');
    const killed = await trainAndDie(database.url(), 'KINCR', 'incremental');
    expect(killed.stdout, killed.stderr).toContain('killing myself deployed, before the run record');
    expect(killed.signal).toBe('SIGKILL');
    const after = await state('KINCR');
    expect(after.current === first.versionId ? after.runs : after.runs.slice(0, 1)).toEqual([first.versionId]);
    expect(after.runs.at(-1)).toBe(after.current);
    // A fine-tune is saved, made current and recorded in one transaction: it leaves no candidate.
    await abandoned('KINCR', 0);
  });

  it.each([
    ['fast', 'cv', 0],
    ['fast', 'refit', 0],
    ['fast', 'holdout', 1],
    ['incremental', 'incremental', 0],
  ] as const)('a retraining in %s mode killed in stage %s leaves the model before it current, whole, with its run row, and %i candidate(s)', async (mode, stage, candidates) => {
    const symbol = `K${mode.slice(0, 3).toUpperCase()}${stage.slice(0, 3).toUpperCase()}`;
    const before = await train(symbol, 'fast');
    const killed = await trainAndDie(database.url(), symbol, mode, stage);
    expect(killed.stdout, killed.stderr).toContain(`killing myself in stage ${stage}`);
    expect(killed.signal).toBe('SIGKILL');

    expect(await state(symbol)).toEqual({ current: before.versionId, runs: [before.versionId] });
    // Whole: its bytes still pass their checksum.
    expect((await new ModelRegistry(store).loadBlob(before.versionId)).version.version_id).toBe(before.versionId);
    const leftovers = await abandoned(symbol, candidates);

    // And the next training goes on as if nothing had happened, but for the candidate it discards.
    const next = await train(symbol, mode);
    expect((await state(symbol)).runs).toEqual([before.versionId, next.versionId]);
    await discarded(symbol, leftovers);
  });
});
