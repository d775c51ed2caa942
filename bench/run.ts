/**
 * `npm run bench [-- --json] [-- --quick] [-- --only NAME]`: runs each benchmark script in a process of its own
 * (so each peak RSS is its own) one after another (so they do not compete for the cores), then prints one table,
 * or with --json one JSON document, of every figure with the backend, the core count, the date and the commit.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchOutput } from './result.js';
import { runScript } from './support/process.js';

const BENCHES = ['cli-start', 'network', 'weekly-universe', 'replay', 'skill', 'csv-stream', 'universe'] as const;

const { values: args } = parseArgs({
  options: { json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false }, only: { type: 'string', multiple: true } },
});
const selected = args.only ?? [...BENCHES];
for (const name of selected) {
  if (!(BENCHES as readonly string[]).includes(name)) throw new Error(`--only ${name}: not a benchmark (${BENCHES.join(', ')})`);
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: import.meta.dirname, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: import.meta.dirname, encoding: 'utf8' }).trim();
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

function table(outputs: BenchOutput[]): string {
  const header = ['bench', 'metric', 'value', 'unit', 'target', 'met', 'detail'];
  const body = outputs.flatMap((o) =>
    o.rows.map((r) => [o.bench, r.metric, String(r.value), r.unit, r.target ?? '', r.met === undefined ? '' : r.met ? 'yes' : 'NO', r.detail ?? '']),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const outputs: BenchOutput[] = [];
for (const name of selected) {
  process.stderr.write(`bench ${name}…\n`);
  outputs.push(await runScript<BenchOutput>(path.join(import.meta.dirname, `${name}.ts`), args.quick ? ['--quick'] : []));
}
const machine = { date: new Date().toISOString().slice(0, 10), commit: commit(), cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
if (args.json) {
  process.stdout.write(`${JSON.stringify({ ...machine, benches: outputs }, null, 2)}\n`);
} else {
  const backends = [...new Set(outputs.map((o) => o.backend))].join('; ');
  process.stdout.write(`${machine.date}, commit ${machine.commit}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, backend ${backends}\n\n`);
  process.stdout.write(`${table(outputs)}\n`);
}
