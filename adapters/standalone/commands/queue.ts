/**
 * `lstm-signals queue`: the training queue as the database holds it, every process's jobs; `--retry ID` queues a
 * failed job again, `--cancel ID` cancels a queued or running one (its worker stops it at its next lease renewal).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { TrainingJobRow } from '../../../plugin/index.js';
import { configOption, databaseUrl, dbOption, positiveInteger, queueUrlOption } from '../options.js';

interface QueueOptions {
  retry?: number;
  cancel?: number;
  db?: string;
  queueUrl?: string;
  config?: string;
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
    .addOption(queueUrlOption())
    .addOption(dbOption())
    .addOption(configOption())
    .option('--json', 'print the queue (or the changed job) as JSON')
    .action(async (options: QueueOptions) => {
      if (options.retry && options.cancel) throw new InvalidArgumentError('--retry and --cancel: one at a time');
      const [{ openTrainingQueue, resolveConfig, Store }, { readConfigFile }] = await Promise.all([import('../../../plugin/index.js'), import('../config-file.js')]);
      const db = databaseUrl(options.db);
      const config = resolveConfig({ ...(await readConfigFile(options.config)), ...(db && { db_url: db }) });
      const store = await Store.open({ url: config.db_url, timeouts: config.db_timeouts });
      // Never started: this process only reads and changes jobs; the workers run them.
      const queue = await openTrainingQueue({ store, databaseUrl: config.db_url, config, runner: 'inline', ...(options.queueUrl && { settings: { url: options.queueUrl } }) });
      try {
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
        await queue.close();
        await store.close();
      }
    });
}
