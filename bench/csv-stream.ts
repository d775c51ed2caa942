/**
 * Ingesting a large CSV through the compiled CLI, as a user would: a ~200 MB file of many symbols (a `symbol` column,
 * rows grouped by symbol, weekday sessions from 1990) → `lstm-signals ingest --data FILE --db sqlite:…`. Prints the
 * wall time and the process's peak RSS (target < 300 MiB: the file is streamed, one symbol in memory at a time, in a
 * worker whose heap is capped) and checks every row was stored. --quick: a ~20 MB file.
 *
 *   npx tsx bench/csv-stream.ts [--quick]
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { build } from '../scripts/build.js';
import { printBench, type BenchRow } from './result.js';
import { log, REPO_ROOT } from './support/process.js';

const QUICK = process.argv.includes('--quick');
const TARGET_MIB = 300;
const CLI = path.join(REPO_ROOT, 'dist/adapters/standalone/cli.js');
const RSS_HOOK = path.join(import.meta.dirname, 'support/rss-on-exit.mjs');
const run = promisify(execFile);

/** Weekdays from 1990-01-01 up to 2024-12-31: 9,131 sessions per symbol. */
function sessions(): string[] {
  const dates: string[] = [];
  for (let day = Date.UTC(1990, 0, 1); day <= Date.UTC(2024, 11, 31); day += 86_400_000) {
    const weekday = new Date(day).getUTCDay();
    if (weekday !== 0 && weekday !== 6) dates.push(new Date(day).toISOString().slice(0, 10));
  }
  return dates;
}

/** A seeded random walk per symbol, so every run writes the same file. */
async function writeCsv(file: string, symbols: number, dates: readonly string[]): Promise<void> {
  const out = createWriteStream(file);
  out.write('date,symbol,open,high,low,close,adjclose,volume\n');
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let s = 0; s < symbols; s++) {
    const symbol = `S${String(s).padStart(4, '0')}`;
    let close = 50 + 100 * random();
    const lines: string[] = [];
    for (const date of dates) {
      const open = close;
      close = Math.max(1, close * (1 + (random() - 0.5) * 0.04));
      const high = Math.max(open, close) * (1 + random() * 0.01);
      const low = Math.min(open, close) * (1 - random() * 0.01);
      lines.push(`${date},${symbol},${open.toFixed(4)},${high.toFixed(4)},${low.toFixed(4)},${close.toFixed(4)},${close.toFixed(4)},${Math.round(1e6 + random() * 9e6)}\n`);
    }
    if (!out.write(lines.join(''))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

if (build({ ifStale: true })) log('built dist/');
const dir = await mkdtemp(path.join(tmpdir(), 'lstm-bench-csv-'));
try {
  const dates = sessions();
  const symbols = QUICK ? 32 : 320;
  const file = path.join(dir, 'universe.csv');
  await writeCsv(file, symbols, dates);
  const megabytes = (await stat(file)).size / 2 ** 20;
  const rows = symbols * dates.length;
  log(`wrote ${megabytes.toFixed(0)} MiB, ${symbols} symbols × ${dates.length} sessions`);

  /** One `lstm-signals ingest` of the file into a new database: wall time and peak RSS; every row must be stored. */
  async function ingest(name: string): Promise<BenchRow[]> {
    const rssFile = path.join(dir, `${name}.rss`);
    const begin = performance.now();
    const { stdout } = await run(process.execPath, ['--import', RSS_HOOK, CLI, 'ingest', '--data', file, '--db', `sqlite:${path.join(dir, `${name}.sqlite`)}`], {
      cwd: dir,
      env: { ...process.env, LSTM_DB_URL: '', LSTM_BENCH_RSS_FILE: rssFile },
      maxBuffer: 64 * 2 ** 20,
    });
    const seconds = (performance.now() - begin) / 1000;
    const rssMiB = Number(await readFile(rssFile, 'utf8')) / 1024;
    const stored = [...stdout.matchAll(/: stored (\d+) new/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    if (stored !== rows) throw new Error(`${name}: stored ${stored} of ${rows} rows`);
    log(`${name}: ${seconds.toFixed(1)} s, peak RSS ${rssMiB.toFixed(0)} MiB, ${stored} rows stored`);
    const detail = `\`lstm-signals ingest\` of a ${megabytes.toFixed(0)} MiB CSV, ${symbols} symbols × ${dates.length} sessions (${rows} rows, all stored), SQLite`;
    return [
      { metric: `${name}: wall time`, value: Number(seconds.toFixed(1)), unit: 's', detail },
      { metric: `${name}: peak RSS`, value: Number(rssMiB.toFixed(0)), unit: 'MiB', target: `< ${TARGET_MIB} MiB`, met: rssMiB < TARGET_MIB, detail },
      { metric: `${name}: throughput`, value: Number((megabytes / seconds).toFixed(2)), unit: 'MiB/s', detail },
    ];
  }

  printBench({
    bench: 'csv-stream',
    backend: 'wasm',
    rows: await ingest('ingest'),
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
