/**
 * `lstm-signals queue`: the training queue as the database holds it, every process's jobs; `--retry ID` queues a
 * failed job again, `--cancel ID` cancels a queued or running one (its worker stops it at its next lease renewal).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { TrainingJobRow } from '../../../plugin/index.js';
import { databaseUrl, dbOption, positiveInteger } from '../options.js';

interface QueueOptions {
  retry?: number;
  cancel?: number;
  db?: string;
  json?: boolean;
}

function line(job: TrainingJobRow): string {
  const progress = job.progress_json && job.status === 'running' ? `  ${String(job.progress_json.stage)} ${String(job.progress_json.step ?? '')}` : '';
  const where = job.worker ? `  on ${job.worker}` : '';
  const error = job.error ? `  ${job.error}` : '';
  return `#${job.id}  ${job.status.padEnd(9)} ${job.symbol} ${job.training_type} (${job.trigger_type}${job.session ? ` ${job.session}` : ''})  attempts ${job.attempts}${where}${progress}${error}`;
}

export function registerQueueCommand(program: Command): void {
  program
    .command('queue')
    .summary('the training queue: running, queued, recent jobs')
    .description('the training queue across every process: running, queued and recent jobs; --retry or --cancel one')
    .option('--retry <id>', 'queue a failed job again', positiveInteger('a job id'))
    .option('--cancel <id>', 'cancel a queued or running job', positiveInteger('a job id'))
    .addOption(dbOption())
    .option('--json', 'print the queue (or the changed job) as JSON')
    .action(async (options: QueueOptions) => {
      if (options.retry && options.cancel) throw new InvalidArgumentError('--retry and --cancel: one at a time');
      const { DatabaseTrainingQueue, resolveConfig, Store } = await import('../../../plugin/index.js');
      const db = databaseUrl(options.db);
      const config = resolveConfig(db ? { db_url: db } : {});
      const store = await Store.open({ url: config.db_url, timeouts: config.db_timeouts });
      try {
        // Never started: this process only reads and changes rows; the workers run the jobs.
        const queue = new DatabaseTrainingQueue({ store, databaseUrl: config.db_url, config, runner: 'inline' });
        if (options.retry || options.cancel) {
          const job = options.retry ? await queue.retry(options.retry) : await queue.cancel(options.cancel!);
          console.log(options.json ? JSON.stringify({ job }, null, 2) : line(job));
          return;
        }
        const state = await queue.state();
        if (options.json) return console.log(JSON.stringify(state, null, 2));
        for (const [title, jobs] of [['running', state.running], ['queued', state.queued], ['recent', state.recent]] as const) {
          console.log(`${title}: ${jobs.length}`);
          for (const job of jobs) console.log(`  ${line(job)}`);
        }
      } finally {
        await store.close();
      }
    });
}
