/**
 * The work of `lstm-signals ingest`, run in a worker thread whose heap is capped (see ingest.ts): open the source,
 * check it, and run the plugin once over it (migrate, validate, store), returning both reports to the command.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BarsIngestedEvent } from '../../../plugin/index.js';
import { openBarSource, type BarSourceCliOptions } from '../bar-source-options.js';
import { withPlugin } from '../plugin-session.js';
import { checkBars, type BarsCheckReport } from './bars.js';

export interface IngestWork extends BarSourceCliOptions {
  db?: string;
  symbols?: string[];
}

export interface IngestResult {
  checked: BarsCheckReport;
  stored: BarsIngestedEvent[];
}

const options = workerData as IngestWork;
const source = await openBarSource(options);
// The source validates as it reads; its report is what tells the user which rows never reached the plugin.
const checked = await checkBars(source);
const stored: BarsIngestedEvent[] = [];
await withPlugin(
  {
    source,
    db: options.db,
    config: { symbols: options.symbols ?? [], strict_bars: Boolean(options.strict) },
    listen: (host) => host.bus.on('lstm:bars:ingested', (report: BarsIngestedEvent) => stored.push(report)),
    logLevel: 'error',
  },
  async () => {},
);
parentPort!.postMessage({ checked, stored } satisfies IngestResult);
