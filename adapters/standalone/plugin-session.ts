/**
 * How every CLI command that does real work runs: the plugin on the standalone host over a bar source,
 * activated (migrate, ingest), used, and deactivated, with the source closed whatever happens.
 */
import { createPlugin, type LstmSignalsPlugin, type PluginConfigInput } from '../../plugin/index.js';
import type { BarSource } from '../bars/source.js';
import { readConfigFile } from './config-file.js';
import { StandaloneHost } from './host.js';
import { createConsoleLogger } from './logger.js';
import { databaseUrl } from './options.js';

export interface SessionOptions {
  source?: BarSource;
  /** `--config FILE`. */
  configFile?: string;
  /** `--db URL`. */
  db?: string;
  /** Keys that the command's own flags set; they win over the config file. */
  config?: PluginConfigInput;
  /** Listeners to attach before activation, so they see the ingestion events too. */
  listen?: (host: StandaloneHost) => void;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * The command runs queued trainings (its own, and any another process left queued): `train`, `weekly`, `serve`,
   * `check-triggers`. Any other command never starts one, whatever `queue.run_jobs` says: a `predict` or `status`
   * must not become a long training run.
   */
  runsTrainings?: boolean;
}

export async function withPlugin<T>(options: SessionOptions, work: (plugin: LstmSignalsPlugin, host: StandaloneHost) => Promise<T>): Promise<T> {
  try {
    const fromFile = await readConfigFile(options.configFile);
    const db = databaseUrl(options.db);
    const plugin = createPlugin({
      ...fromFile,
      ...(db && { db_url: db }),
      ...options.config,
      ...(!options.runsTrainings && { queue: { ...fromFile.queue, run_jobs: false } }),
    });
    const host = new StandaloneHost({ ...(options.source && { source: options.source }), logger: createConsoleLogger(options.logLevel ?? 'warn') });
    options.listen?.(host);
    await plugin.activate(host);
    try {
      return await work(plugin, host);
    } finally {
      await plugin.deactivate();
    }
  } finally {
    await options.source?.close?.();
  }
}
