import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CandidateVersionError, ModelBlobError, ModelRegistry, newVersionId, sha256 } from '../plugin/registry/model-registry.js';
import { TrainingLog } from '../plugin/registry/training-log.js';
import { testDatabases, useTestStore } from './support/databases.js';

describe('newVersionId', () => {
  it('is sortable by time, names the symbol and fits the column', () => {
    const id = newVersionId('BRK.B', new Date('2024-03-28T21:15:42.123Z'));
    expect(id).toMatch(/^BRK\.B-20240328T211542123-[0-9a-f]{4}$/);
    expect(newVersionId('X'.repeat(32), new Date()).length).toBeLessThanOrEqual(64);
  });
});

describe.each(testDatabases)('model registry on $name', (db) => {
  const testStore = useTestStore(db);
  let registry: ModelRegistry;
  const blobs = new Map<string, Buffer>();
  let clock = Date.parse('2024-01-01T00:00:00Z');

  /** A `candidate` as a full training saves it, `deployed` once its holdout decision deploys it, or `incremental`: current at once. */
  async function saveVersion(symbol: string, as: 'candidate' | 'deployed' | 'incremental' = 'candidate', trainingTime = new Date((clock += 86_400_000))) {
    const blob = randomBytes(2048);
    const version = await registry.save(
      { symbol, trainingType: 'full', trainingTime, dataStart: '2000-01-03', dataEnd: '2020-04-17', metadata: { n: blobs.size }, blob },
      { makeCurrent: as === 'incremental' },
    );
    if (as === 'deployed') await testStore().transaction((manager) => registry.deploy(symbol, version.version_id, manager));
    blobs.set(version.version_id, blob);
    return version.version_id;
  }
  const statuses = async (symbol: string) => Object.fromEntries((await registry.list(symbol)).map((v) => [v.version_id, v.status]));

  beforeAll(async () => {
    registry = new ModelRegistry(testStore());
  });

  it('saves a candidate, with its checksum, that rollback refuses and only its holdout decision deploys', async () => {
    const v1 = await saveVersion('AAA');
    expect(await registry.currentVersionId('AAA')).toBeUndefined();
    const { version, blob } = await registry.loadBlob(v1);
    expect(blob.equals(blobs.get(v1)!)).toBe(true);
    expect(version).toMatchObject({ symbol: 'AAA', checksum: sha256(blobs.get(v1)!), blob_bytes: 2048, metadata_json: { n: 0 }, status: 'candidate' });
    const refused = await registry.promote('AAA', v1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CandidateVersionError);
    expect(refused).toMatchObject({
      versionId: v1,
      message: `model version ${v1} is a candidate whose holdout decision was never recorded (its training did not finish): it cannot become current`,
    });
    expect(await registry.currentVersionId('AAA')).toBeUndefined();
    expect(await testStore().transaction((manager) => registry.deploy('AAA', v1, manager))).toBeUndefined();
    expect(await registry.currentVersionId('AAA')).toBe(v1);
    expect(await statuses('AAA')).toEqual({ [v1]: 'deployed' });
  });

  it('rolls the decision back with the transaction that records it', async () => {
    const v = await saveVersion('AAB');
    const died = new Error('the run record failed');
    await expect(testStore().transaction(async (manager) => {
      await registry.deploy('AAB', v, manager);
      throw died;
    })).rejects.toBe(died);
    expect(await statuses('AAB')).toEqual({ [v]: 'candidate' });
    expect(await registry.currentVersionId('AAB')).toBeUndefined();
  });

  it('makes an incremental version current and deployed in the same transaction', async () => {
    const previous = (await registry.currentVersionId('AAA'))!;
    const v2 = await saveVersion('AAA', 'incremental');
    expect(await registry.currentVersionId('AAA')).toBe(v2);
    expect((await registry.list('AAA')).map((v) => v.version_id)).toEqual([v2, previous]);
    expect(await statuses('AAA')).toEqual({ [v2]: 'deployed', [previous]: 'deployed' });
  });

  it('rolls back to any kept version and refuses another symbol’s version', async () => {
    const [newest, oldest] = (await registry.list('AAA')).map((v) => v.version_id);
    expect(await registry.promote('AAA', oldest!)).toBe(newest);
    expect(await registry.currentVersionId('AAA')).toBe(oldest);
    const other = await saveVersion('BBB');
    await expect(registry.promote('AAA', other)).rejects.toThrow(`model version ${other} belongs to BBB, not AAA`);
    expect(await registry.currentVersionId('AAA')).toBe(oldest);
  });

  it('detects a corrupted blob and never promotes it', async () => {
    const v = await saveVersion('CCC');
    // Cut to 2,048 bytes with the last one flipped: a changed byte, whatever it held.
    const blob = blobs.get(v)!;
    await testStore().repos.modelVersion.update({ version_id: v }, { model_blob: Buffer.concat([blob.subarray(0, 2047), Buffer.from([blob[2047]! ^ 0xff])]) });
    const failure = await registry.loadBlob(v).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ModelBlobError);
    expect(failure).toMatchObject({ reason: 'checksum_mismatch', versionId: v });
    await expect(registry.promote('CCC', v)).rejects.toThrow(/is corrupted: checksum/);
    expect(await registry.currentVersionId('CCC')).toBeUndefined();
    await expect(registry.loadBlob('CCC-nope')).rejects.toMatchObject({ reason: 'missing' });
  });

  it('prunes to max_versions, never the current one', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await saveVersion('DDD', 'deployed'));
    await registry.promote('DDD', ids[1]!); // an old version is current (after a rollback)
    expect(await registry.prune('DDD', 3)).toEqual([ids[2], ids[0]]);
    expect((await registry.list('DDD')).map((v) => v.version_id)).toEqual([ids[4], ids[3], ids[1]]);
    expect(await registry.prune('DDD', 1)).toEqual([ids[4], ids[3]]);
    expect((await registry.list('DDD')).map((v) => v.version_id)).toEqual([ids[1]]);
    expect(await registry.currentVersionId('DDD')).toBe(ids[1]);
    await expect(registry.delete(ids[1]!)).rejects.toThrow('is the current version of DDD and cannot be deleted');
    await expect(registry.prune('DDD', 0)).rejects.toThrow('max_versions must be an integer ≥ 1, got 0');
  });

  it('records runs and failures', async () => {
    const log = new TrainingLog(testStore());
    await log.recordRun({
      version_id: null, symbol: 'EEE', training_type: 'fast', trigger_type: 'manual', data_start: '2000-01-03', data_end: '2020-04-17',
      params_json: { lr: 5e-4 }, metrics_json: null, validation_deployed: false, validation_reason: 'not better', holdout_metrics_json: { f1: 0.4 }, duration_seconds: 3.5,
    });
    await log.recordFailure({ symbol: 'EEE', error: new Error('EEE: only 40 sessions of data'), trainingType: 'fast', triggerType: 'manual' });
    expect((await log.runs({ symbol: 'EEE' })).map((r) => [r.validation_deployed, r.validation_reason])).toEqual([[false, 'not better']]);
    const [failure] = await log.failures('EEE');
    expect(failure).toMatchObject({ symbol: 'EEE', training_type: 'fast', trigger_type: 'manual' });
    expect(failure!.error_message).toMatch(/^Error: EEE: only 40 sessions of data\n\s+at /);
  });

  it('discards the candidates a dead training left: older than the age while the symbol is locked, all once it is not', async () => {
    const store = testStore();
    const log = new TrainingLog(store);
    const now = Date.now();
    const kept = await saveVersion('FFF', 'deployed', new Date(now - 7_200_000));
    const old = await saveVersion('FFF', 'candidate', new Date(now - 3_600_000));
    const fresh = await saveVersion('FFF', 'candidate', new Date(now - 60_000));
    const otherSymbol = await saveVersion('GGG', 'candidate', new Date(now - 3_600_000));
    // A training of FFF holds the lock: a candidate younger than the age may be its own.
    await store.repos.trainingLock.insert({ symbol: 'FFF', owner: 'test', acquired_at: new Date(now), expires_at: new Date(now + 600_000) });
    expect(await registry.discardAbandonedCandidates('FFF', 1_800_000)).toEqual([old]);
    expect(await statuses('FFF')).toEqual({ [kept]: 'deployed', [fresh]: 'candidate' });
    // The lock expired (its holder died too): nothing can still be deciding the fresh one.
    await store.repos.trainingLock.update({ symbol: 'FFF' }, { expires_at: new Date(now - 1000) });
    expect(await registry.discardAbandonedCandidates('FFF', 1_800_000)).toEqual([fresh]);
    expect(await registry.discardAbandonedCandidates('FFF', 0)).toEqual([]);
    expect(await statuses('FFF')).toEqual({ [kept]: 'deployed' });
    expect(await statuses('GGG')).toEqual({ [otherSymbol]: 'candidate' });
    const failures = (await log.failures('FFF')).map((f) => [f.training_type, f.trigger_type, f.error_message]).sort();
    expect(failures).toEqual(
      [old, fresh].map((v) => ['full', null, `worker died during training: candidate ${v} never got its holdout decision`]).sort(),
    );
    expect(await registry.currentVersionId('FFF')).toBe(kept);
  });
});

describe.each(testDatabases)('the CandidateVersions migration on $name', (db) => {
  const testStore = useTestStore(db);

  it('marks deployed the versions a deployed run names or that are current, and rejected the others', async () => {
    const store = testStore();
    // Later migrations first.
    expect(await store.revertLast()).toBe('FoldTasks1764700000000');
    expect(await store.revertLast()).toBe('CandidateVersions1764600000000');
    const blob = randomBytes(64);
    for (const id of ['RAN', 'CURRENT', 'REFUSED', 'ORPHAN']) {
      await store.dataSource.query(
        'INSERT INTO lstm_model_version (version_id, symbol, training_type, training_time, data_start, data_end, metadata_json, model_blob, blob_bytes, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [id, 'OLD', 'full', '2024-01-02 00:00:00', '2000-01-03', '2020-04-17', '{}', blob, blob.length, sha256(blob)],
      );
    }
    const run = { symbol: 'OLD', training_type: 'full', trigger_type: 'manual', data_start: null, data_end: null, params_json: null, metrics_json: null, validation_reason: null, holdout_metrics_json: null, duration_seconds: 1 };
    await store.repos.trainingRun.insert([
      { ...run, version_id: 'RAN', validation_deployed: true },
      { ...run, version_id: 'REFUSED', validation_deployed: false },
    ]);
    await store.repos.currentVersion.insert({ symbol: 'OLD', version_id: 'CURRENT', updated_at: new Date() });
    expect(await store.migrate()).toEqual(['CandidateVersions1764600000000', 'FoldTasks1764700000000']);
    const rows = await store.repos.modelVersion.find({ where: { symbol: 'OLD' }, order: { version_id: 'ASC' } });
    expect(rows.map((v) => [v.version_id, v.status])).toEqual([['CURRENT', 'deployed'], ['ORPHAN', 'rejected'], ['RAN', 'deployed'], ['REFUSED', 'rejected']]);
  });
});
