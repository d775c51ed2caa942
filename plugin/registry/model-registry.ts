/**
 * Model versions in the database: weights, topology and metadata in one row, so any process with the
 * database can load a symbol's current model. Every change is one transaction; the writes that take a
 * `manager` join the caller's instead, so a deploy and its run record are stored together or not at all.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LessThan, MoreThan, type EntityManager, type Repository } from 'typeorm';
import type { ModelVersionRow } from '../store/entities.js';
import type { Store } from '../store/store.js';
import { TrainingLog } from './training-log.js';

export interface NewModelVersion {
  symbol: string;
  trainingType: string;
  trainingTime: Date;
  dataStart: string;
  dataEnd: string;
  metadata: Record<string, unknown>;
  blob: Buffer;
}

/** Why a stored model cannot be used; the forecasting health check reports `reason`. */
export class ModelBlobError extends Error {
  constructor(
    readonly versionId: string,
    readonly reason: 'missing' | 'checksum_mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'ModelBlobError';
  }
}

/** A candidate asked to become current: its holdout decision was never recorded. The API answers 409. */
export class CandidateVersionError extends Error {
  constructor(readonly versionId: string) {
    super(`model version ${versionId} is a candidate whose holdout decision was never recorded (its training did not finish): it cannot become current`);
    this.name = 'CandidateVersionError';
  }
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function compactTimestamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace('.', '').replace('Z', '');
}

/** `SYMBOL-20240328T211542123-1a2b`: sortable by time, unique across processes. */
export function newVersionId(symbol: string, at: Date): string {
  return `${symbol}-${compactTimestamp(at)}-${randomBytes(2).toString('hex')}`;
}

export class ModelRegistry {
  private maxBlobBytes: number | undefined;

  constructor(private readonly store: Store) {}

  /**
   * Stores a version: a `candidate` until its holdout decision is recorded (`deploy`, or deleting it), or `deployed`
   * and current at once with `makeCurrent` (incremental training), in the same transaction (the caller's with `manager`).
   */
  async save(version: NewModelVersion, options: { makeCurrent?: boolean; manager?: EntityManager } = {}): Promise<ModelVersionRow> {
    const limit = await this.blobLimit();
    if (version.blob.length > limit) {
      throw new Error(
        `${version.symbol}: model blob of ${version.blob.length} bytes exceeds what the database accepts (${limit} bytes; raise max_allowed_packet on MySQL)`,
      );
    }
    const row: Omit<ModelVersionRow, 'created_at'> = {
      version_id: newVersionId(version.symbol, version.trainingTime),
      symbol: version.symbol,
      training_type: version.trainingType,
      training_time: version.trainingTime,
      data_start: version.dataStart,
      data_end: version.dataEnd,
      metadata_json: version.metadata,
      model_blob: version.blob,
      blob_bytes: version.blob.length,
      checksum: sha256(version.blob),
      status: options.makeCurrent ? 'deployed' : 'candidate',
    };
    await this.within(options.manager, async (manager) => {
      await this.versions(manager).save(row);
      if (options.makeCurrent) await this.setCurrent(manager, version.symbol, row.version_id);
    });
    return this.getOrFail(row.version_id, options.manager);
  }

  async get(versionId: string, manager?: EntityManager): Promise<ModelVersionRow | undefined> {
    return (await this.versions(manager).findOneBy({ version_id: versionId })) ?? undefined;
  }

  async getOrFail(versionId: string, manager?: EntityManager): Promise<ModelVersionRow> {
    const version = await this.get(versionId, manager);
    if (!version) throw new Error(`model version ${versionId} does not exist`);
    return version;
  }

  async currentVersionId(symbol: string, manager?: EntityManager): Promise<string | undefined> {
    return (await (manager ? manager.getRepository(this.store.entities.currentVersion) : this.store.repos.currentVersion).findOneBy({ symbol }))?.version_id;
  }

  async current(symbol: string): Promise<ModelVersionRow | undefined> {
    const id = await this.currentVersionId(symbol);
    return id ? this.get(id) : undefined;
  }

  /** Versions newest first; all symbols when `symbol` is omitted. */
  list(symbol?: string): Promise<ModelVersionRow[]> {
    return this.store.repos.modelVersion.find({ where: symbol ? { symbol } : {}, order: { training_time: 'DESC', version_id: 'DESC' } });
  }

  /** The version's bytes, checked against its stored checksum. */
  async loadBlob(versionId: string, manager?: EntityManager): Promise<{ version: ModelVersionRow; blob: Buffer }> {
    const row = await this.versions(manager).findOne({
      where: { version_id: versionId },
      select: { version_id: true, model_blob: true },
    });
    if (!row) throw new ModelBlobError(versionId, 'missing', `model version ${versionId} does not exist`);
    const blob = row.model_blob;
    if (!blob || blob.length === 0) throw new ModelBlobError(versionId, 'missing', `model version ${versionId} has no stored model bytes`);
    const version = await this.getOrFail(versionId, manager);
    const actual = sha256(blob);
    if (actual !== version.checksum || blob.length !== version.blob_bytes) {
      throw new ModelBlobError(
        versionId,
        'checksum_mismatch',
        `model version ${versionId} is corrupted: checksum ${actual.slice(0, 12)}… (${blob.length} bytes) ≠ stored ${version.checksum.slice(0, 12)}… (${version.blob_bytes} bytes)`,
      );
    }
    return { version, blob };
  }

  /**
   * Makes a kept version current: the rollback. The blob is verified first, so a corrupted version can never become
   * current, nor can a candidate, whose holdout never judged it. Returns the version that was current before.
   */
  async promote(symbol: string, versionId: string, manager?: EntityManager): Promise<string | undefined> {
    return this.within(manager, async (m) => {
      const { version } = await this.loadBlob(versionId, m);
      if (version.symbol !== symbol) throw new Error(`model version ${versionId} belongs to ${version.symbol}, not ${symbol}`);
      if (version.status === 'candidate') throw new CandidateVersionError(versionId);
      const previous = await this.currentVersionId(symbol, m);
      await this.setCurrent(m, symbol, versionId);
      return previous;
    });
  }

  /** Records a candidate's holdout decision to deploy it: `deployed` and current, in the caller's transaction with its run row. */
  async deploy(symbol: string, versionId: string, manager: EntityManager): Promise<string | undefined> {
    await this.versions(manager).update({ version_id: versionId }, { status: 'deployed' });
    return this.promote(symbol, versionId, manager);
  }

  /**
   * Deletes the candidates of `symbol` that a training which died left behind — those saved more than `maxAgeMs` ago,
   * or all of them when no training of the symbol holds its lock — each with a training failure row. A caller that
   * holds the symbol's lock passes 0: no other training of the symbol can be running. Returns the deleted ids.
   */
  async discardAbandonedCandidates(symbol: string, maxAgeMs: number): Promise<string[]> {
    const now = new Date();
    const lock = await this.store.repos.trainingLock.findOneBy({ symbol, expires_at: MoreThan(now) });
    const candidates = await this.versions().find({
      where: { symbol, status: 'candidate', ...(lock && { training_time: LessThan(new Date(now.getTime() - maxAgeMs)) }) },
      order: { training_time: 'ASC', version_id: 'ASC' },
    });
    const current = await this.currentVersionId(symbol);
    const discarded: string[] = [];
    // A version an older release saved and made current reads as a candidate (the column's default): it stays.
    for (const candidate of candidates.filter((v) => v.version_id !== current)) {
      const deleted = await this.store.transaction(async (manager) => {
        // Only one of two processes discarding the same candidate deletes it, and only that one records the failure.
        const { affected } = await this.versions(manager).delete({ version_id: candidate.version_id, status: 'candidate' });
        if (affected !== 1) return false;
        const error = `worker died during training: candidate ${candidate.version_id} never got its holdout decision`;
        await new TrainingLog(this.store).recordFailure({ symbol, error, trainingType: candidate.training_type }, manager);
        return true;
      });
      if (deleted) discarded.push(candidate.version_id);
    }
    return discarded;
  }

  /** Replaces a version's metadata (what its evaluation adds before it is deployed); the bytes and their checksum stay. */
  async updateMetadata(versionId: string, metadata: Record<string, unknown>, manager?: EntityManager): Promise<void> {
    // A JSON column goes through its transformer; `update` types it as a deep partial.
    const { affected } = await this.versions(manager).update({ version_id: versionId }, { metadata_json: metadata as never });
    if (!affected) throw new Error(`model version ${versionId} does not exist`);
  }

  /** Deletes a version that is not current (a rejected candidate, or pruning). */
  async delete(versionId: string, manager?: EntityManager): Promise<void> {
    const version = await this.getOrFail(versionId, manager);
    if ((await this.currentVersionId(version.symbol, manager)) === versionId) {
      throw new Error(`model version ${versionId} is the current version of ${version.symbol} and cannot be deleted`);
    }
    await this.versions(manager).delete({ version_id: versionId });
  }

  /** Keeps the current version and the newest others up to `maxVersions` in all; returns the deleted ids. */
  async prune(symbol: string, maxVersions: number): Promise<string[]> {
    if (!Number.isInteger(maxVersions) || maxVersions < 1) throw new RangeError(`max_versions must be an integer ≥ 1, got ${maxVersions}`);
    const current = await this.currentVersionId(symbol);
    const others = (await this.list(symbol)).filter((v) => v.version_id !== current);
    const keepOthers = maxVersions - (current ? 1 : 0);
    const doomed = others.slice(Math.max(0, keepOthers)).map((v) => v.version_id);
    if (doomed.length > 0) {
      await this.store.transaction(async (manager) => {
        for (const id of doomed) await manager.getRepository(this.store.entities.modelVersion).delete({ version_id: id });
      });
    }
    return doomed;
  }

  /** Runs `work` in the caller's transaction, or in one of its own. */
  private within<T>(manager: EntityManager | undefined, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return manager ? work(manager) : this.store.transaction(work);
  }

  /** The versions table, in the caller's transaction when there is one. */
  private versions(manager?: EntityManager): Repository<ModelVersionRow> {
    return manager ? manager.getRepository(this.store.entities.modelVersion) : this.store.repos.modelVersion;
  }

  private async setCurrent(manager: EntityManager, symbol: string, versionId: string): Promise<void> {
    await manager.getRepository(this.store.entities.currentVersion).upsert({ symbol, version_id: versionId, updated_at: new Date() }, ['symbol']);
  }

  /** The largest blob the database takes in one statement (MySQL: max_allowed_packet less room for the rest of the row). */
  private async blobLimit(): Promise<number> {
    if (this.maxBlobBytes === undefined) {
      if (this.store.dialect === 'mysql') {
        const [row] = (await this.store.dataSource.query('SELECT @@max_allowed_packet AS packet')) as Array<{ packet: number | string }>;
        this.maxBlobBytes = Number(row?.packet) - 1024 * 1024;
      } else {
        this.maxBlobBytes = 1_000_000_000; // SQLITE_MAX_LENGTH
      }
    }
    return this.maxBlobBytes;
  }
}
