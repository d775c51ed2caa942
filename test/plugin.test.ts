import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSUMED_EVENTS, EMITTED_EVENTS, createPlugin, manifest, resolveConfig, type BarsIngestedEvent, type Logger } from '../plugin/index.js';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { testDatabases } from './support/databases.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const spx = readFileSync(path.join(import.meta.dirname, '../data/SPX.csv'), 'utf8').trim().split('\n');

/** A folder with the first `n` sessions of the real S&P file as SPX.csv. */
function spxFolder(n: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lstm-plugin-'));
  writeFileSync(path.join(dir, 'SPX.csv'), spx.slice(0, n + 1).join('\n'));
  return dir;
}
const dateOf = (session: number) => spx[session]!.split(',')[0]!;

describe('manifest', () => {
  it('declares exactly the events the code emits and consumes', () => {
    expect(Object.keys(manifest.contributes.events.emits).sort()).toEqual([...EMITTED_EVENTS].sort());
    expect(Object.keys(manifest.contributes.events.consumes).sort()).toEqual([...CONSUMED_EVENTS].sort());
  });

  it('carries the identity a host needs', () => {
    const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, '../package.json'), 'utf8'));
    expect(manifest).toMatchObject({ id: 'lstm-signals', version: pkg.version, main: 'dist/plugin/index.js', hostApi: '>=1.0.0 <2.0.0' });
    // The entry the manifest names is the one the package exports.
    expect(pkg.exports['.'].default).toBe(`./${manifest.main}`);
  });
});

describe('configuration', () => {
  it('fills defaults from the schema', () => {
    const config = resolveConfig({ training: { seed: 7 } });
    expect(config).toMatchObject({ migrate_on_start: true, symbols: [], strict_bars: false, feature_names: expect.arrayContaining(['rsi', 'ret_20']) });
    expect(config.training).toMatchObject({ seed: 7, cv_splits: 5, holdout_sessions: 63, max_versions: 3, fast_params: { lr: 0.0005, hidden: 32, epochs: 25 } });
    expect(config.training.param_grid).toEqual({ lr: [0.001, 0.0005], hidden: [32, 64], epochs: [30, 50] });
  });

  it('names every bad field', () => {
    expect(() => resolveConfig({ symbols: ['SPX', 'bad symbol!'], strict_bars: 'yes' as unknown as boolean })).toThrow(
      /symbols\.1: must match pattern.*strict_bars: must be boolean/,
    );
    expect(() => resolveConfig({ webhok_url: 'x' } as never)).toThrow(/webhok_url: must NOT have additional properties/);
  });
});

describe.each(testDatabases)('plugin lifecycle on $name', (db) => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  async function activeSetup(sessions: number, now: number) {
    const { url, drop } = await db.create();
    cleanup.push(drop);
    const host = new StandaloneHost({ source: new CsvBarSource(spxFolder(sessions), { strict: false }), logger: quiet, now: dateOf(now) });
    const reports: BarsIngestedEvent[] = [];
    host.bus.on('lstm:bars:ingested', (r: BarsIngestedEvent) => reports.push(r));
    const plugin = createPlugin({ db_url: url });
    return { host, plugin, reports };
  }

  it('registers exactly what the manifest declares, and deactivate removes all of it', async () => {
    const { host, plugin } = await activeSetup(30, 20);
    const before = Object.fromEntries(CONSUMED_EVENTS.map((e) => [e, host.bus.listenerCount(e)]));
    await plugin.activate(host);
    for (const event of CONSUMED_EVENTS) expect(host.bus.listenerCount(event)).toBe(before[event]! + 1);
    expect(host.routes.map((r) => `${r.method} ${r.path}`)).toEqual(manifest.contributes.routes.map((r) => `${r.method} ${r.path}`));
    expect(host.panels).toEqual(manifest.contributes.panels);

    await plugin.deactivate();
    for (const event of CONSUMED_EVENTS) expect(host.bus.listenerCount(event)).toBe(before[event]);
    expect(host.bus.eventNames()).toEqual(['lstm:bars:ingested']); // only the test's own listener is left
    expect(host.routes).toEqual([]);
    expect(plugin.store).toBeUndefined();
  });

  it('stores the feed history up to the clock, then each live bar as its session closes', async () => {
    const { host, plugin, reports } = await activeSetup(30, 20);
    await plugin.activate(host);
    cleanup.push(() => plugin.deactivate());
    // Sessions 1..20 are history (the clock stands at session 20); 21..30 are still in the future.
    expect(reports).toEqual([expect.objectContaining({ symbol: 'SPX', origin: 'history', rows: 20, inserted: 20, dropped: 0 })]);

    await host.closeSession(dateOf(21));
    await host.closeSession(dateOf(22));
    await plugin.idle();
    expect(reports.slice(1).map((r) => [r.origin, r.inserted])).toEqual([['live', 1], ['live', 1]]);

    const route = host.routes.find((r) => r.path === '/api/lstm/bars')!;
    const response = await route.handler({ query: {}, body: undefined, params: {}, headers: {} });
    expect(response).toEqual({ status: 200, body: { symbols: [{ symbol: 'SPX', first: '2000-01-03', last: dateOf(22), sessions: 22 }] } });
  });

  it('refuses a bad live bar with a problem naming symbol, date and field, and stores nothing of it', async () => {
    const { host, plugin, reports } = await activeSetup(25, 20);
    await plugin.activate(host);
    cleanup.push(() => plugin.deactivate());
    host.bus.emit('host:bar', { bar: { symbol: 'SPX', date: '2000-02-02', open: 1400, high: 1390, low: 1395, close: 1398, volume: 1 } });
    await plugin.idle();
    const live = reports.at(-1)!;
    expect(live).toMatchObject({ origin: 'live', rows: 1, inserted: 0, dropped: 1 });
    expect(live.problems).toContainEqual(expect.objectContaining({ symbol: 'SPX', date: '2000-02-02', field: 'high' }));
    expect(await plugin.store!.repos.bar.countBy({ symbol: 'SPX' })).toBe(20);
  });

  it('refuses a host outside its API range', async () => {
    const { host, plugin } = await activeSetup(5, 5);
    Object.assign(host, { apiVersion: '2.0.0' });
    await expect(plugin.activate(host)).rejects.toThrow('lstm-signals needs host API >=1.0.0 <2.0.0; this host offers 2.0.0');
    expect(host.bus.listenerCount('host:bar')).toBe(0);
  });
});

describe('training through the plugin', () => {
  it('reports start, progress, completion and the deployment on the host bus', async () => {
    const host = new StandaloneHost({ source: new CsvBarSource(spxFolder(700), { strict: false }), logger: quiet });
    const plugin = createPlugin({
      db_url: 'sqlite::memory:',
      training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0, skill_gate: false, arima_baseline: false, holdout_sessions: 20 },
    });
    const events: Array<[string, Record<string, unknown>]> = [];
    for (const name of EMITTED_EVENTS.filter((e) => e.startsWith('lstm:training') || e.startsWith('lstm:model'))) {
      host.bus.on(name, (payload: Record<string, unknown>) => events.push([name, payload]));
    }
    await plugin.activate(host);
    try {
      const outcome = await plugin.train({ symbol: 'SPX', mode: 'fast' });
      expect(events[0]).toEqual(['lstm:training:started', { symbol: 'SPX', mode: 'fast', trigger: 'manual' }]);
      const progress = events.filter(([name]) => name === 'lstm:training:progress').map(([, p]) => `${p.stage} ${p.step} ${p.epoch}/${p.epochs}`);
      expect(progress).toEqual([
        'cv params 1/1, fold 1/3 1/1',
        'cv params 1/1, fold 2/3 1/1',
        'cv params 1/1, fold 3/3 1/1',
        'refit all but the holdout 1/1',
        'holdout 20 holdout windows undefined/undefined',
      ]);
      expect(events.slice(-2)).toEqual([
        ['lstm:training:completed', expect.objectContaining({ symbol: 'SPX', version_id: outcome.versionId, deployed: true, run_id: outcome.run.id })],
        ['lstm:model:deployed', { symbol: 'SPX', version_id: outcome.versionId, previous_version_id: null, reason: 'first model for this symbol' }],
      ]);

      await expect(plugin.train({ symbol: 'NONE', mode: 'fast' })).rejects.toThrow('NONE: no bars between the first and the last session');
      expect(events.at(-1)).toEqual(['lstm:training:failed', { symbol: 'NONE', mode: 'fast', trigger: 'manual', error: 'NONE: no bars between the first and the last session' }]);
    } finally {
      await plugin.deactivate();
    }
  });
});
