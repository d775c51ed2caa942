/** Which queue engine runs: BullMQ on Redis when `LSTM_REDIS_URL` or `queue.url` names one, else the embedded one. */
import { DatabaseTrainingQueue } from './database-queue.js';
import type { QueueOptions, WorkingQueue } from './job-table.js';

/** The environment variable that selects the BullMQ engine, overriding `queue.url`. */
export const REDIS_URL_ENV = 'LSTM_REDIS_URL';

/** The Redis URL selected, if any: an explicit `settings.url` (a --queue-url), else the environment, else `queue.url`. */
export function queueUrl(options: Pick<QueueOptions, 'config' | 'settings'>, env: NodeJS.ProcessEnv = process.env): string | null {
  return options.settings?.url || env[REDIS_URL_ENV] || options.config.queue.url;
}

/** Opens the configured engine; BullMQ is loaded only when it is used. */
export async function openTrainingQueue(options: QueueOptions): Promise<WorkingQueue> {
  const url = queueUrl(options);
  if (!url) return new DatabaseTrainingQueue(options);
  if (options.databaseUrl?.includes(':memory:')) throw new Error(`the BullMQ queue (${url}) needs a database other processes can open, not sqlite::memory:`);
  const { BullmqTrainingQueue } = await import('./bullmq-queue.js');
  return new BullmqTrainingQueue({ ...options, url });
}
