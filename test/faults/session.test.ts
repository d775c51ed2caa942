/**
 * A session-close run killed with SIGKILL at each of its stages, and one whose database went down: the next session
 * close must process the session that did not finish, so that in the end the database holds what an uninterrupted
 * run holds — every prediction once, every accuracy record, the trigger decision with its training queued, every
 * session's run done. The child (test/support/session-process.ts) follows one symbol and kills itself at the stage
 * named; the databases are a SQLite file and a MariaDB/MySQL scratch database.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CsvBarSource } from '../../adapters/bars/csv.js';
import { StandaloneHost } from '../../adapters/standalone/host.js';
import { createPlugin, type Logger, type SignalEvent, type Store } from '../../plugin/index.js';
import type { SessionReport } from '../../plugin/runtime/session-runner.js';
import { mysqlUrl, describeMysql, createScratchMysqlDatabase } from '../support/databases.js';
import { sharedDatabases, useSharedDatabase } from '../support/shared-databases.js';
import { SPX_CSV } from '../support/spx.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const STAGES = ['prediction logged', 'accuracy backfilled', 'trigger decided', 'training queued', 'alerts raised'] as const;
/** Five sessions before the killed one, so its close backfills the first of them. */
const BEFORE = ['2019-05-23', '2019-05-24', '2019-05-28', '2019-05-29', '2019-05-30'];
/** The last session of May 2019 (the monthly trigger fires), and the next session, which finds it unfinished. */
const KILLED = '2019-05-31';
const NEXT = '2019-06-03';
const NOW = '2019-05-22';

/** A data folder holding the bundled S&P 500 bars since 2016 under each of `symbols`. */
function dataFolder(symbols: readonly string[]): string {
  const [header, ...rows] = readFileSync(SPX_CSV, 'utf8').trim().split('\n');
  const dir = mkdtempSync(path.join(tmpdir(), 'lstm-session-faults-'));
  for (const symbol of symbols) writeFileSync(path.join(dir, `${symbol}.csv`), [header, ...rows.filter((r) => r >= '2016-01-01')].join('\n'));
  return dir;
}

function runSessions(url: string, dir: string, symbols: readonly string[], sessions: readonly string[], options: { triggers?: 'on' | 'off'; stage?: string } = {}) {
  const args = [url, dir, NOW, symbols.join(','), sessions.join(','), options.triggers ?? 'on', ...(options.stage ? [options.stage] : [])];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../support/session-process.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code, signal) => resolve({ signal, code, stdout, stderr })));
}

/** What a symbol's sessions left in the database, in terms an uninterrupted run can be compared with. */
async function record(store: Store, symbol: string) {
  const { repos } = store;
  const decisions = await repos.triggerDecision.find({ where: { symbol }, order: { session: 'ASC' } });
  const jobs = await repos.trainingJob.find({ where: { symbol }, order: { id: 'ASC' } });
  return {
    predictions: (await repos.predictionLog.find({ where: { symbol, prediction_set: 'live' }, order: { predict_date: 'ASC' } })).map((p) => p.predict_date),
    accuracy: (await repos.accuracyRecord.find({ where: { symbol }, order: { predict_date: 'ASC' } })).map((a) => `${a.predict_date}→${a.actual_date}`),
    // The jobs asked for, not their fate: a job queued by the process that was killed is the training queue's to recover.
    decisions: decisions.map((d) => ({ session: d.session, trigger: d.trigger_type, mode: d.training_type, queued: d.job_id !== null && jobs.some((j) => j.id === d.job_id) })),
    jobs: jobs.map((j) => `${j.trigger_type} ${j.training_type} ${j.session}`),
    runs: (await repos.sessionRun.find({ where: { symbol }, order: { session: 'ASC' } })).map((r) => `${r.session} ${r.status}`),
  };
}

describe.each(sharedDatabases)('kill -9: a session-close run killed mid-way on $name', (db) => {
  const database = useSharedDatabase(db);
  const symbols = ['REF', ...STAGES.map((_, i) => `KS${i + 1}`)];
  let dir: string;
  let reference: Awaited<ReturnType<typeof record>>;

  beforeAll(async () => {
    dir = dataFolder(symbols);
    // Five sessions of predictions for every symbol, without trainings; then the reference closes the next two, uninterrupted.
    const before = await runSessions(database.url(), dir, symbols, BEFORE, { triggers: 'off' });
    expect(before.code, before.stderr).toBe(0);
    const uninterrupted = await runSessions(database.url(), dir, ['REF'], [KILLED, NEXT]);
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    reference = await record(database.store(), 'REF');
  }, 300_000);

  it('the uninterrupted reference holds what the comparison relies on', () => {
    expect(reference).toEqual({
      predictions: [...BEFORE, KILLED, NEXT],
      accuracy: [`${BEFORE[0]}→${KILLED}`, `${BEFORE[1]}→${NEXT}`],
      decisions: [
        { session: KILLED, trigger: 'monthly', mode: 'fast', queued: true },
        { session: NEXT, trigger: null, mode: null, queued: false },
      ],
      jobs: [`monthly fast ${KILLED}`],
      runs: [...BEFORE, KILLED, NEXT].map((s) => `${s} done`),
    });
  });

  it.each(STAGES.map((stage, i) => [stage, `KS${i + 1}`] as const))('killed at "%s": the next session close completes it, and the record equals the uninterrupted one', async (stage, symbol) => {
    const killed = await runSessions(database.url(), dir, [symbol], [KILLED], { stage });
    expect(killed.stdout, killed.stderr).toContain(`killing myself at ${stage}`);
    expect(killed.signal).toBe('SIGKILL');
    const runs = database.store().repos.sessionRun;
    expect(await runs.findOneByOrFail({ symbol, session: KILLED })).toMatchObject({ status: 'started', attempts: 1 });

    const next = await runSessions(database.url(), dir, [symbol], [NEXT]);
    expect(next.code, next.stderr).toBe(0);
    expect(await record(database.store(), symbol)).toEqual(reference);
    expect(await runs.findOneByOrFail({ symbol, session: KILLED })).toMatchObject({ status: 'done', attempts: 2, error: null });
  }, 180_000);
});

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

describeMysql('database down: MariaDB goes away during a session close and comes back before the next', () => {
  it('the bar that arrived meanwhile is fetched again and the session is processed at the next close', async () => {
    const { url, drop } = await createScratchMysqlDatabase();
    const target = new URL(mysqlUrl!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 3306) });
    const proxied = new URL(url);
    proxied.host = `127.0.0.1:${proxy.port}`;
    const dir = dataFolder(['DOWN']);
    const host = new StandaloneHost({ source: new CsvBarSource(dir, { strict: true }), logger: quiet, now: NOW });
    const plugin = createPlugin({ db_url: proxied.toString(), symbols: ['DOWN'], triggers: { enabled: false }, db_timeouts: { connect_ms: 2_000, acquire_ms: 2_000, query_ms: 5_000 } });
    const reports: SessionReport[] = [];
    const signalDates: string[] = [];
    host.bus.on('lstm:session:processed', (r: SessionReport) => reports.push(r));
    host.bus.on('lstm:signal', (e: SignalEvent) => signalDates.push(e.signal.as_of));
    try {
      await plugin.activate(host);
      for (const session of BEFORE) {
        await host.closeSession(session);
        await plugin.idle();
      }
      await proxy.close();
      await host.closeSession(KILLED);
      await plugin.idle();
      expect(reports.at(-1)?.symbols[0]?.error).toMatch(/database/i);
      await proxy.open();
      await host.closeSession(NEXT);
      await plugin.idle();

      expect(reports.at(-1)!.symbols[0]).toMatchObject({ error: null, caught_up: [{ session: KILLED, error: null }] });
      const { repos } = plugin.store!;
      expect(await repos.bar.countBy({ symbol: 'DOWN', date: KILLED })).toBe(1);
      expect((await repos.predictionLog.find({ where: { symbol: 'DOWN' }, order: { predict_date: 'ASC' } })).map((p) => p.predict_date)).toEqual([...BEFORE, KILLED, NEXT]);
      expect((await repos.accuracyRecord.find({ order: { predict_date: 'ASC' } })).map((a) => a.actual_date)).toEqual([KILLED, NEXT]);
      expect((await repos.sessionRun.find({ order: { session: 'ASC' } })).map((r) => `${r.session} ${r.status}`)).toEqual([...BEFORE, KILLED, NEXT].map((s) => `${s} done`));
      // The session caught up is logged for the record; no strategy is sent a signal for a session that is over.
      expect(signalDates).toEqual([...BEFORE, NEXT]);
    } finally {
      await plugin.deactivate();
      await proxy.close();
      await drop();
    }
  }, 180_000);
});

describe('process down: sessions a stopped process never heard of', () => {
  it('are caught up at the next close, only the last catch_up_sessions of them, naming the ones left', async () => {
    const source = new CsvBarSource(dataFolder(['GAP']), { strict: true });
    const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const host = new StandaloneHost({ source, logger: { ...quiet, warn: (message, fields) => warnings.push({ message, fields }) }, now: NOW });
    const plugin = createPlugin({ db_url: 'sqlite::memory:', symbols: ['GAP'], triggers: { enabled: false }, catch_up_sessions: 2 });
    const reports: SessionReport[] = [];
    host.bus.on('lstm:session:processed', (r: SessionReport) => reports.push(r));
    await plugin.activate(host);
    try {
      await host.closeSession(BEFORE[0]!);
      await plugin.idle();
      // Four sessions the process never heard of (it was stopped): their bars reach it with the next close.
      const gap = (await source.load('GAP')).bars.filter((b) => b.date > BEFORE[0]! && b.date < KILLED);
      expect(gap.map((b) => b.date)).toEqual(BEFORE.slice(1));
      await plugin.store!.repos.bar.insert(gap);
      await host.closeSession(KILLED);
      await plugin.idle();
    } finally {
      await plugin.deactivate();
    }
    expect(reports.at(-1)!.symbols[0]!.caught_up).toEqual([BEFORE[3], BEFORE[4]].map((session) => ({ session, error: null })));
    expect(warnings).toEqual([expect.objectContaining({ message: expect.stringContaining('4 earlier sessions were not processed; catching up the last 2'), fields: { skipped: [BEFORE[1], BEFORE[2]] } })]);
  });
});
