/**
 * `lstm-signals worker`: runs the queued trainings of a shared database — through BullMQ when a Redis URL is given —
 * until SIGINT or SIGTERM, on this machine or any other that reaches the database (and Redis). Stopped, it gives its running jobs back (stopped and queued again for
 * another worker) and exits: it never leaves a job `running`.
 */
import type { Command } from 'commander';
import { configOption, databaseUrl, dbOption, positiveInteger, queueUrlOption } from '../options.js';
import { stopRequested } from '../stop-signal.js';

interface WorkerOptions {
  concurrency?: number;
  queueUrl?: string;
  db?: string;
  config?: string;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .summary('run queued trainings until Ctrl-C or SIGTERM')
    .description('run queued trainings until Ctrl-C or SIGTERM (then the running ones are queued again); run one per machine sharing the database (and Redis, with --queue-url)')
    .option('--concurrency <n>', 'trainings at once, each in its own process (default: triggers.concurrency)', positiveInteger('a number of trainings'))
    .addOption(queueUrlOption())
    .addOption(dbOption())
    .addOption(configOption())
    .action(async (options: WorkerOptions) => {
      const [{ openTrainingQueue, resolveConfig, Store }, { readConfigFile }, { createConsoleLogger }] = await Promise.all([
        import('../../../plugin/index.js'),
        import('../config-file.js'),
        import('../logger.js'),
      ]);
      const db = databaseUrl(options.db);
      const config = resolveConfig({ ...(await readConfigFile(options.config)), ...(db && { db_url: db }) });
      const logger = createConsoleLogger('info');
      const store = await Store.open({ url: config.db_url, timeouts: config.db_timeouts });
      const queue = await openTrainingQueue({
        store,
        databaseUrl: config.db_url,
        config,
        ...(options.queueUrl && { settings: { url: options.queueUrl } }),
        ...(options.concurrency && { concurrency: options.concurrency }),
        logger,
        onEvent: (event) => {
          const { id, symbol, training_type } = event.job;
          if (event.type === 'started') logger.info(`job ${id}: ${symbol} ${training_type} training started`);
          else if (event.type === 'completed') logger.info(`job ${id}: ${symbol}: ${event.summary.version_id} ${event.summary.deployed ? 'deployed' : 'not deployed'}: ${event.summary.reason}`);
          else if (event.type === 'failed') logger.error(`job ${id}: ${symbol}: failed: ${event.error}`);
        },
      });
      queue.startWorking();
      logger.info(`worker ${queue.worker}: running up to ${queue.concurrency} training(s) at once from ${store.dialect} (${queue.engine === 'bullmq' ? 'jobs through BullMQ on Redis' : 'jobs in the database'}); Ctrl-C or SIGTERM to stop`);
      const signal = await stopRequested();
      logger.info(`worker: ${signal}: giving the running jobs back`);
      await queue.close({ release: true });
      await store.close();
    });
}
