/**
 * `lstm-signals ingest`: run the plugin on the standalone host once: migrate, validate and store the bars.
 *
 * The work runs in a worker thread with a capped heap. Only one symbol's bars are live at a time, but storing
 * millions of rows allocates fast, and V8 lets an uncapped heap grow to several hundred MiB of garbage before
 * collecting; the cap makes it collect instead, which bounds the process near 250 MiB whatever the file's size.
 */
import { Worker } from 'node:worker_threads';
import type { Command } from 'commander';
import { formatBarProblem } from '../../../plugin/bar-validation.js';
import { addBarSourceOptions } from '../bar-source-options.js';
import { BUNDLED_DATA, symbolList, dbOption } from '../options.js';
import { barsCheckExitCode, formatBarsCheck } from './bars.js';
import type { IngestResult, IngestWork } from './ingest-work.js';

interface IngestOptions extends IngestWork {
  json?: boolean;
}

/** The worker's old generation: live data is one symbol's bars (~10 MiB for 35 years); the rest would be garbage. */
const HEAP_MIB = 128;

function runIngestWorker(work: IngestWork): Promise<IngestResult> {
  // The compiled command runs ingest-work.js; under tsx (development) the module is the .ts beside this one.
  const module = new URL(`./ingest-work${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  const worker = new Worker(module, { workerData: work, resourceLimits: { maxOldGenerationSizeMb: HEAP_MIB } });
  return new Promise((resolve, reject) => {
    let result: IngestResult | undefined;
    worker.on('message', (message: IngestResult) => (result = message));
    worker.on('error', (error: Error & { code?: string }) =>
      reject(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new Error(`ingest needed more than its ${HEAP_MIB} MiB heap: does one symbol hold millions of rows?`) : error),
    );
    worker.on('exit', (code) => (result ? resolve(result) : reject(new Error(`the ingest worker stopped with code ${code} before reporting`))));
  });
}

export function registerIngestCommand(program: Command): void {
  const ingest = program.command('ingest').description('validate daily bars and store them in the plugin database (migrating it first)');
  addBarSourceOptions(ingest, BUNDLED_DATA)
    .addOption(dbOption())
    .option('--symbols <list>', 'comma-separated symbols (default: every symbol in --data)', symbolList)
    .option('--json', 'print the ingestion reports as JSON')
    .action(async ({ json, ...work }: IngestOptions) => {
      const { checked, stored } = await runIngestWorker(work);
      if (json) {
        console.log(JSON.stringify({ source: checked, stored }, null, 2));
      } else {
        process.stdout.write(formatBarsCheck(checked));
        for (const report of stored) {
          for (const problem of report.problems) console.log(formatBarProblem(problem));
          console.log(`${report.symbol}: stored ${report.inserted} new, ${report.revised} revised, ${report.unchanged} unchanged`);
        }
      }
      process.exitCode = Math.max(barsCheckExitCode(checked), stored.some((r) => r.rejected) ? 1 : 0);
    });
}
