/**
 * A separate process that trains one symbol on the bundled S&P bars and is killed with SIGKILL at the moment the
 * trainer has deployed (the version current) and is about to record its run:
 * `node --import tsx train-process.ts DB_URL SYMBOL MODE`.
 *
 * The fault is injected here only: the real TrainingLog.recordRun is wrapped so that the process kills itself as
 * the call begins. Nothing in the plugin knows about it.
 */
import { resolveConfig, Store, Trainer, TrainingLog, type TrainingMode } from '../../plugin/index.js';
import { spxBars } from './spx.js';
import { TINY_TRAINING } from './tiny-training.js';

const [url, symbol, mode] = process.argv.slice(2) as [string, string, TrainingMode];
const { feature_names, training } = resolveConfig({ training: TINY_TRAINING });
const store = await Store.open({ url });
const bars = (await spxBars()).slice(-900).map((bar) => ({ ...bar, symbol }));

TrainingLog.prototype.recordRun = function killedBeforeTheRunRecord() {
  console.log('deployed; killing myself before the run record');
  process.kill(process.pid, 'SIGKILL');
  return new Promise(() => {});
};

await new Trainer(store).train({ symbol, bars, mode, trigger: 'manual', featureNames: feature_names, settings: training });
console.log('trained: the kill did not happen');
