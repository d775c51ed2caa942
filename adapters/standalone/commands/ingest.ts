/** `lstm-signals ingest`: run the plugin on the standalone host once: migrate, validate and store the bars. */
import type { Command } from 'commander';
import { formatBarProblem } from '../../../plugin/bar-validation.js';
import type { BarsIngestedEvent } from '../../../plugin/index.js';
import { addBarSourceOptions, openBarSource, type BarSourceCliOptions } from '../bar-source-options.js';
import { BUNDLED_DATA, symbolList, dbOption } from '../options.js';
import { barsCheckExitCode, checkBars, formatBarsCheck } from './bars.js';

interface IngestOptions extends BarSourceCliOptions {
  db?: string;
  symbols?: string[];
  json?: boolean;
}

export function registerIngestCommand(program: Command): void {
  const ingest = program.command('ingest').description('validate daily bars and store them in the plugin database (migrating it first)');
  addBarSourceOptions(ingest, BUNDLED_DATA)
    .addOption(dbOption())
    .option('--symbols <list>', 'comma-separated symbols (default: every symbol in --data)', symbolList)
    .option('--json', 'print the ingestion reports as JSON')
    .action(async (options: IngestOptions) => {
      const { withPlugin } = await import('../plugin-session.js');
      const source = await openBarSource(options);
      // The source validates as it reads; its report is what tells the user which rows never reached the plugin.
      const checked = await checkBars(source);
      const reports: BarsIngestedEvent[] = [];
      await withPlugin(
        {
          source,
          db: options.db,
          config: { symbols: options.symbols ?? [], strict_bars: Boolean(options.strict) },
          listen: (host) => host.bus.on('lstm:bars:ingested', (report: BarsIngestedEvent) => reports.push(report)),
          logLevel: 'error',
        },
        async () => {},
      );

      if (options.json) {
        console.log(JSON.stringify({ source: checked, stored: reports }, null, 2));
      } else {
        process.stdout.write(formatBarsCheck(checked));
        for (const report of reports) {
          for (const problem of report.problems) console.log(formatBarProblem(problem));
          console.log(`${report.symbol}: stored ${report.inserted} new, ${report.revised} revised, ${report.unchanged} unchanged`);
        }
      }
      process.exitCode = Math.max(barsCheckExitCode(checked), reports.some((r) => r.rejected) ? 1 : 0);
    });
}
