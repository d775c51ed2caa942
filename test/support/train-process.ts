/**
 * A separate process that trains one symbol on the bundled S&P bars and is killed with SIGKILL at a chosen stage:
 * `node --import tsx train-process.ts DB_URL SYMBOL MODE STAGE`, STAGE one of the trainer's progress stages
 * (`cv`, `refit`, `incremental`, `holdout`: killed as that stage first reports) or `run-record` (killed once the
 * trainer has deployed and is about to record its run).
 *
 * The fault is injected here only: through the progress callback any caller may pass, and by wrapping the real
 * TrainingLog.recordRun so that the process kills itself as the call begins. Nothing in the plugin knows about it.
 */
import { resolveConfig } from '../../plugin/config.js';
import { TrainingLog } from '../../plugin/registry/training-log.js';
import { Store } from '../../plugin/store/store.js';
import { Trainer, type TrainingMode, type TrainingProgress } from '../../plugin/training/trainer.js';
import { spxBars } from './spx.js';
import { TINY_TRAINING } from './tiny-training.js';

export type CrashStage = TrainingProgress['stage'] | 'run-record';

const [url, symbol, mode, stage] = process.argv.slice(2) as [string, string, TrainingMode, CrashStage];
const { feature_names, training } = resolveConfig({ training: TINY_TRAINING });
const store = await Store.open({ url });
const bars = (await spxBars()).slice(-900).map((bar) => ({ ...bar, symbol }));

function die(where: string): never {
  console.log(`killing myself ${where}`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

if (stage === 'run-record') {
  TrainingLog.prototype.recordRun = function killedBeforeTheRunRecord() {
    return die('deployed, before the run record');
  };
}
const onProgress = (p: TrainingProgress) => {
  if (p.stage === stage) die(`in stage ${stage}`);
};
await new Trainer(store).train({ symbol, bars, mode, trigger: 'manual', featureNames: feature_names, settings: training, onProgress });
console.log('trained: the kill did not happen');
