/**
 * Fan-out of one full training's cross-validation (`queue.fan_out`): each unit of the search — parameters P fitted on
 * fold F for E epochs — is a row of `lstm_fold_task` that any idle worker may claim, on whichever engine. The
 * training that owns them (the parent) issues a rung's units together and runs, one at a time, every one that no
 * other worker has claimed, so a lone worker never waits on itself; a helper that dies stops renewing its claim and
 * its unit goes back to whoever asks next. A unit's result does not depend on where it ran (same data, seeds and
 * backend), so the search picks what the serial run picks.
 */
import { In, IsNull } from 'typeorm';
import type { TrainingParams, TrainingSettings } from '../config.js';
import { initBackend } from '../model/backend.js';
import type { EpochInfo } from '../model/network.js';
import { BarStore } from '../store/bar-store.js';
import type { FoldTaskRow } from '../store/entities.js';
import { isDuplicateKey } from '../store/errors.js';
import type { Store } from '../store/store.js';
import { buildDataset } from '../training/fit.js';
import { fitFold, type CvData, type FoldResult, type FoldUnit } from '../training/search.js';
import type { Split } from '../training/splits.js';
import { isDeadLocalWorker } from './worker-identity.js';

/** What a helper needs to rebuild a unit's data from the symbol's stored bars. */
export interface FoldSpec {
  params: TrainingParams;
  epochs: number;
  fold: number;
  split: Split;
  settings: Pick<TrainingSettings, 'dropout' | 'seed' | 'batch_size'>;
  trainingType: string;
  featureNames: string[];
  start: string | null;
  end: string;
}

/** The parent's side: the training's job, its symbol and stored range. */
export interface FanOut {
  jobId: number;
  symbol: string;
  featureNames: readonly string[];
  start?: string;
  /** The last session of the parent's data: helpers read exactly the same bars. */
  end: string;
}

interface Timing {
  leaseMs: number;
  pollMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** JSON has no NaN: a degenerate fold's score is stored as null and read back as NaN. */
const encode = (r: FoldResult) => ({ f1: Number.isNaN(r.f1) ? null : r.f1, mse: Number.isNaN(r.mse) ? null : r.mse, probUpRaw: r.prediction.probUpRaw, magnitude: r.prediction.magnitude });
function decode(json: Record<string, unknown>): FoldResult {
  const number = (v: unknown) => (v === null ? NaN : (v as number));
  return { f1: number(json.f1), mse: number(json.mse), prediction: { probUpRaw: json.probUpRaw as number[], magnitude: json.magnitude as number[] } };
}

export class FoldTasks {
  private built: { key: string; dataset: CvData['dataset'] } | undefined;

  constructor(
    private readonly store: Store,
    private readonly worker: string,
    private readonly timing: Timing,
  ) {}

  /**
   * Claims a unit: a queued one, or one whose worker is gone (its lease ran out, or its process on this host
   * ended). Of job `jobId` only, when given. A conditional update decides between claimants.
   */
  async claim(jobId?: number): Promise<FoldTaskRow | null> {
    const tasks = this.store.repos.foldTask;
    const now = new Date();
    for (const task of await this.claimable(jobId, now)) {
      const lease = { status: 'running' as const, worker: this.worker, lease_expires_at: new Date(now.getTime() + this.timing.leaseMs) };
      const taken = await tasks.update({ id: task.id, status: task.status, worker: task.worker ?? IsNull() }, lease);
      if (taken.affected === 1) return { ...task, ...lease };
    }
    return null;
  }

  /** How many units could be claimed now: queued, or whose worker is gone. */
  async available(): Promise<number> {
    return (await this.claimable()).length;
  }

  /** Queued units and running ones whose worker is gone, of job `jobId` when given. */
  private async claimable(jobId?: number, now = new Date()): Promise<FoldTaskRow[]> {
    const tasks = this.store.repos.foldTask;
    const scope = jobId === undefined ? {} : { job_id: jobId };
    // The specs are what a claim needs; the results of done units are not read here.
    const select = { id: true, job_id: true, task_key: true, symbol: true, spec_json: true, status: true, worker: true, lease_expires_at: true } as const;
    const queued = await tasks.find({ select, where: { ...scope, status: 'queued' }, order: { id: 'ASC' }, take: 20 });
    const running = await tasks.find({ select, where: { ...scope, status: 'running' }, order: { id: 'ASC' } });
    return [...queued, ...running.filter((t) => (t.lease_expires_at && t.lease_expires_at < now) || (t.worker && isDeadLocalWorker(t.worker)))];
  }

  /** Runs a claimed unit on `data` (rebuilt from the stored bars when not given), renewing the claim each epoch, and stores its result. */
  async run(task: FoldTaskRow, data?: CvData, onEpoch?: (info: EpochInfo) => void): Promise<boolean> {
    const spec = task.spec_json as unknown as FoldSpec;
    // The backend the training's own process uses (the same choice everywhere): another one fits other numbers.
    await initBackend();
    const cv = data ?? (await this.rebuild(task.symbol, spec));
    let renewedAt = Date.now();
    const result = await fitFold(cv, spec.fold, spec.params, spec.epochs, (info) => {
      onEpoch?.(info);
      if (Date.now() - renewedAt < this.timing.leaseMs / 3) return;
      renewedAt = Date.now();
      void this.store.repos.foldTask.update({ id: task.id, worker: this.worker }, { lease_expires_at: new Date(renewedAt + this.timing.leaseMs) });
    });
    const done = await this.store.repos.foldTask.update(
      { id: task.id, status: 'running', worker: this.worker },
      // The worker stays named: who fitted it.
      { status: 'done', result_json: encode(result) as never, lease_expires_at: null, finished_at: new Date() },
    );
    // Not ours any more (our lease ran out and another worker took it): its result will come from there.
    return done.affected === 1;
  }

  /** The data of `spec`'s training, from the symbol's stored bars: only the unit's own fold is needed. */
  private async rebuild(symbol: string, spec: FoldSpec): Promise<CvData> {
    // One training's units share their data: built once for a run of them.
    const key = JSON.stringify([symbol, spec.start, spec.end, spec.featureNames]);
    if (this.built?.key !== key) {
      const bars = await new BarStore(this.store).load(symbol);
      this.built = { key, dataset: buildDataset(symbol, bars, spec.featureNames, { ...(spec.start && { start: spec.start }), end: spec.end }) };
    }
    const { dataset } = this.built;
    const folds: Split[] = [];
    folds[spec.fold] = spec.split;
    return { dataset, labels: dataset.samples, folds, settings: spec.settings, trainingType: spec.trainingType };
  }

  /**
   * The parent's unit: records each call as a task of the job and resolves with its result, whoever ran it. This
   * process runs the job's unclaimed tasks one at a time while any of its calls is waiting. An earlier attempt's
   * tasks are removed first: the bars may have changed since.
   */
  unit(fanOut: FanOut): FoldUnit {
    const tasks = this.store.repos.foldTask;
    const waiting = new Map<number, { resolve: (r: FoldResult) => void; reject: (e: unknown) => void; onEpoch?: (info: EpochInfo) => void }>();
    let cleared: Promise<unknown> | undefined;
    let pumping: Promise<void> | undefined;
    let data: CvData | undefined;

    const pump = async () => {
      while (waiting.size > 0) {
        const finished = await tasks.find({ where: { job_id: fanOut.jobId, status: 'done', id: In([...waiting.keys()]) } });
        for (const task of finished) {
          waiting.get(task.id)!.resolve(decode(task.result_json!));
          waiting.delete(task.id);
        }
        if (waiting.size === 0) return;
        const task = await this.claim(fanOut.jobId);
        if (task) await this.run(task, data, waiting.get(task.id)?.onEpoch);
        else await sleep(this.timing.pollMs);
      }
    };
    const fail = (error: unknown) => {
      for (const { reject } of waiting.values()) reject(error);
      waiting.clear();
    };
    const kick = () => {
      pumping ??= pump()
        .catch(fail)
        .finally(() => {
          pumping = undefined;
          if (waiting.size > 0) kick();
        });
    };

    return async (cvData, fold, params, epochs, onEpoch) => {
      data = cvData;
      cleared ??= tasks.delete({ job_id: fanOut.jobId });
      await cleared;
      const spec: FoldSpec = {
        params,
        epochs,
        fold,
        split: cvData.folds[fold]!,
        settings: { dropout: cvData.settings.dropout, seed: cvData.settings.seed, batch_size: cvData.settings.batch_size },
        trainingType: cvData.trainingType,
        featureNames: [...fanOut.featureNames],
        start: fanOut.start ?? null,
        end: fanOut.end,
      };
      const key = `${params.lr}|${params.hidden}|${params.epochs}|${fold}|${epochs}`;
      let id: number;
      try {
        id = (await tasks.insert({ job_id: fanOut.jobId, task_key: key, symbol: fanOut.symbol, spec_json: spec as never, status: 'queued' })).identifiers[0]!.id as number;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        id = (await tasks.findOneByOrFail({ job_id: fanOut.jobId, task_key: key })).id;
      }
      const result = new Promise<FoldResult>((resolve, reject) => waiting.set(id, { resolve, reject, onEpoch }));
      kick();
      return result;
    };
  }

  /** Removes the job's tasks (its training has ended). */
  async clear(jobId: number): Promise<void> {
    await this.store.repos.foldTask.delete({ job_id: jobId });
  }
}
