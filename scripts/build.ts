/**
 * Compiles the package into dist/: tsc emits ESM JavaScript with .d.ts, then the files the code reads at run
 * time are copied beside it (the panel's static assets, the bundled market data), so dist/ is the whole package.
 *
 *   npx tsx scripts/build.ts             # clean build (npm run build, npm ci's prepare)
 *   npx tsx scripts/build.ts --if-stale  # only when a source is newer than the last build (the test suite's set-up)
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.join(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist');
const STAMP_NAME = '.built';
const STAMP = path.join(DIST, STAMP_NAME);
const SOURCES = ['plugin', 'adapters', 'strategies', 'migrations', 'data', 'manifest.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.ts'];
/** Copied into the build, at the same place relative to the code that reads them. */
const ASSETS = [
  ['plugin/panel/static', 'plugin/panel/static'],
  ['data', 'data'],
];
const CLI = 'adapters/standalone/cli.js';

/** The newest modification time under a file or folder. */
function newest(file: string): number {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(file).map((name) => newest(path.join(file, name))));
}

function stale(): boolean {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return SOURCES.some((source) => newest(path.join(ROOT, source)) > built);
}

/** Returns whether it built. */
export function build({ ifStale = false } = {}): boolean {
  if (ifStale && !stale()) return false;
  // Built beside dist/ and swapped in whole, so a process running the CLI meanwhile never sees half a build.
  const next = `${DIST}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', next], { cwd: ROOT, stdio: 'inherit' });
  for (const [from, to] of ASSETS) cpSync(path.join(ROOT, from), path.join(next, to), { recursive: true });
  chmodSync(path.join(next, CLI), 0o755);
  writeFileSync(path.join(next, STAMP_NAME), `${new Date().toISOString()}\n`);
  rmSync(DIST, { recursive: true, force: true });
  renameSync(next, DIST);
  return true;
}

if (process.argv[1] === import.meta.filename) build({ ifStale: process.argv.includes('--if-stale') });
