/** `lstm-signals serve`: the plugin on the standalone host, its routes served over HTTP until SIGINT or SIGTERM. */
import { InvalidArgumentError, type Command } from 'commander';
import { stopRequested } from '../stop-signal.js';
import { addBarSourceOptions, openBarSource, type BarSourceCliOptions } from '../bar-source-options.js';
import { BUNDLED_DATA, configOption, dbOption } from '../options.js';

interface ServeOptions extends BarSourceCliOptions {
  port: number;
  host: string;
  db?: string;
  config?: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  return port;
}

export function registerServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .summary('serve the HTTP API and the /lstm panel until Ctrl-C')
    .description('serve the plugin’s HTTP API (and panel) over its database and bar source until Ctrl-C; admin routes need LSTM_ADMIN_TOKEN when set');
  addBarSourceOptions(serve, BUNDLED_DATA)
    .option('--port <n>', 'port to listen on (0 = any free port)', parsePort, 8080)
    .option('--host <address>', 'address to listen on; any other than 127.0.0.1 needs LSTM_ADMIN_TOKEN', '127.0.0.1')
    .addOption(dbOption())
    .addOption(configOption())
    .action(async (options: ServeOptions) => {
      const adminToken = process.env.LSTM_ADMIN_TOKEN;
      const [{ withPlugin }, { checkListenOptions, startHttpServer }] = await Promise.all([import('../plugin-session.js'), import('../http-server.js')]);
      // A setting that would be refused is said before the database is migrated and the bars stored.
      checkListenOptions({ hostname: options.host, adminToken });
      await withPlugin(
        {
          source: await openBarSource(options),
          configFile: options.config,
          runsTrainings: true,
          db: options.db,
          config: { strict_bars: Boolean(options.strict) },
          logLevel: 'info',
        },
        async (plugin, host) => {
          const server = await startHttpServer({ host, port: options.port, hostname: options.host, adminToken });
          console.log(`lstm-signals: serving ${server.url}/api/lstm (Ctrl-C stops)`);
          if (!plugin.config.queue.run_jobs) host.logger.info('lstm-signals: queue.run_jobs is false: trainings are only queued here; `lstm-signals worker` processes run them');
          const signal = await stopRequested();
          host.logger.info(`lstm-signals: ${signal}: stopping`);
          await server.close();
        },
      );
    });
}
