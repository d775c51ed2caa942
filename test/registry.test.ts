import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelBlobError, ModelRegistry, newVersionId, sha256 } from '../plugin/registry/model-registry.js';
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

  async function saveVersion(symbol: string, makeCurrent = false) {
    const blob = randomBytes(2048);
    clock += 86_400_000;
    const version = await registry.save(
      { symbol, trainingType: 'full', trainingTime: new Date(clock), dataStart: '2000-01-03', dataEnd: '2020-04-17', metadata: { n: blobs.size }, blob },
      { makeCurrent },
    );
    blobs.set(version.version_id, blob);
    return version.version_id;
  }

  beforeAll(async () => {
    registry = new ModelRegistry(testStore());
  });

  it('saves a version that is not current until promoted, with its checksum', async () => {
    const v1 = await saveVersion('AAA');
    expect(await registry.currentVersionId('AAA')).toBeUndefined();
    const { version, blob } = await registry.loadBlob(v1);
    expect(blob.equals(blobs.get(v1)!)).toBe(true);
    expect(version).toMatchObject({ symbol: 'AAA', checksum: sha256(blobs.get(v1)!), blob_bytes: 2048, metadata_json: { n: 0 } });
    expect(await registry.promote('AAA', v1)).toBeUndefined();
    expect(await registry.currentVersionId('AAA')).toBe(v1);
  });

  it('makes an incremental version current in the same transaction', async () => {
    const previous = await registry.currentVersionId('AAA');
    const v2 = await saveVersion('AAA', true);
    expect(await registry.currentVersionId('AAA')).toBe(v2);
    expect((await registry.list('AAA')).map((v) => v.version_id)).toEqual([v2, previous]);
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
    for (let i = 0; i < 5; i++) ids.push(await saveVersion('DDD'));
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
});
