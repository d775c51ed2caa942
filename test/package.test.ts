/**
 * The package as a platform gets it: `npm pack`, the tarball installed into an empty folder with no TypeScript
 * tooling, and a plain `.mjs` host that imports the plugin and the reference host, trains, and receives a signal.
 * Installing compiles better-sqlite3 from source (no prebuilt binary can be downloaded here): minutes, not seconds.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('the packed package in a plain Node host', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'lstm-pack-'));
  const installed = path.join(scratch, 'node_modules', pkg.name);

  beforeAll(async () => {
    // dist/ is built by the suite's set-up; packing must not rebuild it under the other tests' feet.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: ROOT });
    const [{ filename }] = JSON.parse(stdout) as Array<{ filename: string }>;
    writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'plain-host', private: true, type: 'module' }));
    copyFileSync(path.join(ROOT, 'test/fixtures/plain-host/host.mjs'), path.join(scratch, 'host.mjs'));
    await run('npm', ['install', `./${path.basename(filename)}`, '--no-audit', '--no-fund', '--prefer-offline'], { cwd: scratch, maxBuffer: 1 << 24 });
  }, 900_000);

  it('installs only what runs: compiled JavaScript with declarations, no TypeScript tooling, no optional peers', () => {
    expect(existsSync(path.join(installed, 'dist/plugin/index.js'))).toBe(true);
    expect(existsSync(path.join(installed, 'dist/plugin/index.d.ts'))).toBe(true);
    expect(existsSync(path.join(installed, 'dist/data/SPX.csv'))).toBe(true);
    expect(existsSync(path.join(installed, 'plugin'))).toBe(false);
    for (const tool of ['typescript', 'tsx', 'vitest', 'grademark', 'chai', 'data-forge']) expect(existsSync(path.join(scratch, 'node_modules', tool)), tool).toBe(false);
  });

  it('a plain .mjs host imports the plugin and the standalone host, trains on an in-memory database and receives an lstm:signal', async () => {
    const { stdout } = await run(process.execPath, ['host.mjs'], { cwd: scratch, maxBuffer: 1 << 24 });
    const out = JSON.parse(stdout) as { version: string; trained: { deployed: boolean; data_end: string; versionId: string }; signals: Array<Record<string, unknown>> };
    expect(out.version).toBe(pkg.version);
    // 400 bars, the last one held back by the host's clock: the model is trained through the 399th, and the closing session is predicted with it.
    expect(out.trained).toMatchObject({ deployed: true, data_end: '2020-07-13' });
    expect(out.signals).toHaveLength(1);
    expect(out.signals[0]).toMatchObject({ symbol: 'PLAIN', as_of: '2020-07-14', source: 'lstm', model_version: out.trained.versionId });
  });

  it('the installed bin answers --help', async () => {
    const { stdout } = await run(path.join(scratch, 'node_modules/.bin/lstm-signals'), ['--help'], { cwd: scratch });
    expect(stdout).toMatch(/^Usage: lstm-signals \[options\] \[command\]/);
    expect((await run(path.join(scratch, 'node_modules/.bin/lstm-signals'), ['--version'], { cwd: scratch })).stdout.trim()).toBe(pkg.version);
  });

  it('the Grademark adapter names the optional peer dependencies it needs', async () => {
    const script = "await import('lstm-signals/grademark').then(() => console.log('loaded'), (e) => console.log(e.message));";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: scratch });
    expect(stdout.trim()).toBe(
      'lstm-signals/grademark needs the optional peer dependencies grademark, data-forge, chai; missing: grademark, data-forge, chai. Install them with: npm install grademark data-forge chai',
    );
  });

  it('its declarations type-check a TypeScript host through the exports map', async () => {
    const dir = path.join(scratch, 'typed');
    mkdirSync(dir);
    symlinkSync(path.join(scratch, 'node_modules'), path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] } }),
    );
    writeFileSync(
      path.join(dir, 'host.ts'),
      [
        "import { createPlugin, type Signal } from 'lstm-signals';",
        "import { StandaloneHost } from 'lstm-signals/standalone';",
        "const plugin = createPlugin({ db_url: 'sqlite::memory:' });",
        "const host = new StandaloneHost({});",
        "const grade: Signal['grade'] = 'HOLD';",
        'void plugin.activate(host); void grade;',
        // A wrong call must not type-check: the declarations really describe the API.
        "// @ts-expect-error the grade is a closed set",
        "const wrong: Signal['grade'] = 'MAYBE'; void wrong;",
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, [TSC, '-p', dir]).catch((error: { stdout: string }) => error);
    expect(stdout).toBe('');
  });
});
