import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../migrations/index.js';
import { Store } from '../plugin/index.js';
import type { TrainingJobRow } from '../plugin/store/entities.js';
import { runCli } from './support/cli.js';
import { testDatabases } from './support/databases.js';

describe('lstm-signals --help', () => {
  const cwd = tmpdir();
  it.each([[[]], [['ingest']], [['migrate']], [['bars']], [['bars', 'check']], [['features']], [['train']], [['spec']], [['versions']], [['rollback']], [['weekly']], [['predict']], [['health']], [['check-triggers']], [['status']], [['decay']], [['alerts']], [['calibration']], [['skill']]])('documents %j', async (command) => {
    const { code, stdout } = await runCli([...command, '--help'], { cwd });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: lstm-signals/);
    if (command.length === 0) expect(stdout).toMatch(/ingest[\s\S]*migrate[\s\S]*bars/);
  });

  it('rejects an unknown command with exit code 2, not the 1 of a run that reports a failure', async () => {
    const { code, stderr } = await runCli(['weekyl'], { cwd });
    expect(code).toBe(2);
    expect(stderr.split('\n').slice(0, 3)).toEqual([
      "error: unknown command 'weekyl'",
      '(Did you mean weekly?)',
      '(lstm-signals --help lists the commands; lstm-signals COMMAND --help their options)',
    ]);
  });

  // The messages themselves are in the README's Troubleshooting section, which test/readme.test.ts checks.
  it.each([
    [['predict', '--symbol', 'SPX', '--as-of', '17/04/2020'], '--as-of'],
    [['backtest', '--from', '2020/01/02', '--to', '2020-02-28'], '--from'],
    [['backtest', '--from', '2020-03-02', '--to', '2020-02-28'], '--from'],
    [['train', '--symbol', 'SPX', '--end', '2020-02-30'], '--end'],
    [['weekly', '--data', 'nope.csv'], '--data'],
    [['weekly', '--config', 'nope.json'], '--config'],
  ])('refuses %j before reading or writing anything, naming %s, with exit code 2', async (args, option) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lstm-cli-usage-'));
    const { code, stdout, stderr } = await runCli(args, { cwd: dir });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toContain(option);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a weekly run whose every symbol fails says each failure once, writes no empty report, and exits 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lstm-cli-bad-'));
    writeFileSync(path.join(dir, 'BAD.csv'), 'day,o,h,l,c,v\n2020-01-02,1,2,0.5,1.5,100\n');
    const { code, stdout, stderr } = await runCli(['weekly', '--data', 'BAD.csv'], { cwd: dir });
    expect(code).toBe(1);
    expect(stderr.match(/missing required column "date"/g)).toHaveLength(1);
    expect(stderr).toMatch(/ERROR lstm-signals: BAD: no bars from the feed: BAD\.csv: missing required column "date" \(header: day,o,h,l,c,v\)\n$/);
    expect(stdout.split('\n').slice(0, 2)).toEqual(['status failed: 0 signal(s), 1 failure(s) (BAD)', 'no signal: the signals JSON and the Excel report are not written']);
    expect(readdirSync(path.join(dir, 'weekly_trading_signals'))).toEqual(['lstm_status.json']);
    expect(existsSync(path.join(dir, 'result'))).toBe(false);
  });
});

describe('embedded default', () => {
  it('ingest with no options migrates a SQLite file in the working directory and stores the bundled S&P data', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-cli-'));
    const first = await runCli(['ingest'], { cwd });
    expect(first.stdout.trim().split('\n')).toEqual([
      'SPX: read 5105, accepted 5105, dropped 0, 2000-01-03..2020-04-17',
      'SPX: stored 5105 new, 0 revised, 0 unchanged',
    ]);
    expect(first.code).toBe(0);
    expect(existsSync(path.join(cwd, 'lstm-signals.sqlite'))).toBe(true);
    const again = await runCli(['ingest', '--json'], { cwd });
    expect(JSON.parse(again.stdout).stored[0]).toMatchObject({ symbol: 'SPX', inserted: 0, unchanged: 5105 });
  });
});

describe('ingest of a folder with one bad symbol', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-cli-'));
  writeFileSync(path.join(cwd, 'GOOD.csv'), 'Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,12,10,11,120\n');
  writeFileSync(path.join(cwd, 'BAD.csv'), 'date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,9,10,11,120\n');

  it('drops and reports the bad row by default, storing the rest', async () => {
    const { code, stdout } = await runCli(['ingest', '--data', cwd, '--db', 'sqlite:default.sqlite'], { cwd });
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toEqual([
      'BAD 2024-01-03 high: high 9 below low 10 (line 3)',
      'BAD: read 2, accepted 1, dropped 1, 2024-01-02..2024-01-02',
      'GOOD: read 2, accepted 2, dropped 0, 2024-01-02..2024-01-03',
      'BAD: stored 1 new, 0 revised, 0 unchanged',
      'GOOD: stored 2 new, 0 revised, 0 unchanged',
    ]);
  });

  it('in strict mode stores nothing of the bad symbol and exits 1', async () => {
    const { code, stdout } = await runCli(['ingest', '--data', cwd, '--db', 'sqlite:strict.sqlite', '--strict', '--json'], { cwd });
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.source.symbols.map((s: { symbol: string; rejected: boolean }) => [s.symbol, s.rejected])).toEqual([['BAD', true], ['GOOD', false]]);
    expect(report.stored.map((s: { symbol: string; inserted: number }) => [s.symbol, s.inserted])).toEqual([['BAD', 0], ['GOOD', 2]]);
  });
});

describe('train and spec', () => {
  it('trains a symbol from the command line and prints the run record', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-cli-'));
    writeFileSync(path.join(cwd, 'tiny.json'), JSON.stringify({ training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0, skill_gate: false, arima_baseline: false } }));
    const { code, stdout, stderr } = await runCli(['train', '--symbol', 'SPX', '--start', '2017-01-01', '--config', 'tiny.json', '--json'], { cwd });
    expect(code).toBe(0);
    const outcome = JSON.parse(stdout);
    expect(outcome).toMatchObject({ deployed: true, reason: 'first model for this symbol', run: { symbol: 'SPX', training_type: 'fast', trigger_type: 'manual' } });
    expect(outcome.holdout.n).toBe(63);
    // Not a terminal: a line as each fit starts and one as it ends.
    expect(stderr).toMatch(/\[SPX\] cv params 1\/1, fold 3\/3 — 1 epochs…\n\[SPX\] cv params 1\/1, fold 3\/3 — done, loss \d/);
    expect(stderr).toMatch(/\[SPX\] refit all but the holdout — done, loss \d/);

    // A second model kept beside the first (forced through the gate), then a rollback to the first.
    writeFileSync(path.join(cwd, 'forced.json'), JSON.stringify({ training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0, skill_gate: false, arima_baseline: false, min_f1_improvement: -1, seed: 5 } }));
    const text = (await runCli(['train', '--symbol', 'SPX', '--start', '2017-01-01', '--config', 'forced.json'], { cwd })).stdout;
    const second = { versionId: /^version {3}(\S+)$/m.exec(text)![1]! };
    expect(text).toMatch(/^deployed {2}yes: /m);
    // The holdout's figures are printed beside the baselines on the same sessions.
    expect(text).toMatch(/^skill {5}(shown|not shown) \(skill gate off\): holdout \S+\.\.\S+: hit \d+\.\d% \[\d+\.\d%, \d+\.\d%\] of 63 vs best baseline \w+ \d+\.\d% \[/m);
    const listed = (await runCli(['versions', '--symbol', 'SPX'], { cwd })).stdout.trim().split('\n');
    expect(listed.map((line) => /^([* ]) (\S+) {2}(\S+)/.exec(line)!.slice(1))).toEqual([['*', second.versionId, 'deployed'], [' ', outcome.versionId, 'deployed']]);
    const rolled = await runCli(['rollback', '--symbol', 'SPX', '--to', outcome.versionId], { cwd });
    expect(rolled.stdout.trim()).toBe(`SPX: current version ${outcome.versionId} (was ${second.versionId})`);
    const versions = JSON.parse((await runCli(['versions', '--json'], { cwd })).stdout).versions;
    expect(versions.map((v: { version_id: string; current: boolean }) => [v.version_id, v.current])).toEqual([[second.versionId, false], [outcome.versionId, true]]);
  });

  it('keeps docs/LSTM_TRAINING_SPEC.* identical to what the code generates', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-cli-'));
    expect((await runCli(['spec', '--out', cwd], { cwd })).code).toBe(0);
    for (const file of ['LSTM_TRAINING_SPEC.json', 'LSTM_TRAINING_SPEC.md']) {
      expect(readFileSync(path.join(cwd, file), 'utf8'), `${file} is stale: run npx lstm-signals spec`).toBe(
        readFileSync(path.join(import.meta.dirname, '../docs', file), 'utf8'),
      );
    }
  });
});

describe('weekly, predict and health from the command line', () => {
  /** Calendar days from the bundled data's last bar to today (UTC), as the CLI measures a signal's age on the wall clock. */
  const daysSinceLastBundledBar = () => Math.round((Date.parse(new Date().toISOString().slice(0, 10)) - Date.parse('2020-04-17')) / 86_400_000);

  it('runs the weekly job, reports health, and predicts', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-cli-'));
    expect((await runCli(['health'], { cwd })).code).toBe(1); // nothing stored yet: unhealthy
    writeFileSync(path.join(cwd, 'tiny.json'), JSON.stringify({ training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0, skill_gate: false, arima_baseline: false }, weekly: { lookback_sessions: 600 } }));
    const weekly = await runCli(['weekly', '--config', 'tiny.json'], { cwd });
    expect(weekly.code).toBe(0);
    // The bundled data ends 2020-04-17; on the wall clock its signal is STALE, which the run says but does not count as a failure.
    const days = daysSinceLastBundledBar();
    const status = JSON.parse(readFileSync(path.join(cwd, 'weekly_trading_signals/lstm_status.json'), 'utf8'));
    const [signal] = JSON.parse(readFileSync(status.latest_signal_file, 'utf8')).signals;
    expect(signal).toMatchObject({ as_of: '2020-04-17', source: 'lstm', stale: true, data_age_days: days });
    const shown = signal.skill.shown ? 'yes' : 'no';
    const lines = weekly.stdout.split('\n');
    expect(lines[0]).toMatch(/^symbol\s+as of\s+data\s+grade\s+conf\s+P\(up\)\s+exp 5d\s+price\s+stop\s+target\s+risk\s+source\s+skill$/);
    expect(lines[1]).toMatch(new RegExp(`^SPX\\s+2020-04-17\\s+STALE\\s+(STRONG_BUY|BUY|HOLD|SELL|STRONG_SELL)\\s+[1-5]\\s.*\\slstm\\s+${shown}$`));
    expect(lines[2]).toBe(`STALE: these are the signals of 2020-04-17 (SPX's last bar, ${days} days before today); the bundled data ends there.`);
    // With the gate off the toy model serves, but the table says whether it has shown skill and, if not, its holdout numbers.
    expect(lines[3]).toBe(signal.skill.shown ? `status success: 1 signal(s), 0 failure(s)` : `SPX: lstm has not shown skill: ${signal.skill.summary}`);
    expect(weekly.stdout).toMatch(/\nstatus success: 1 signal\(s\), 0 failure\(s\)\n/);
    expect(status).toMatchObject({ status: 'success', stale: [{ symbol: 'SPX', as_of: '2020-04-17', data_age_days: days }] });
    expect(weekly.stderr).toMatch(/\[SPX\] refit all but the holdout — 1 epochs/);
    for (const file of ['weekly_trading_signals/lstm_status.json', 'logs']) expect(existsSync(path.join(cwd, file))).toBe(true);

    // The model is fine; the data is not: health is not HEALTHY while the latest bar is years old.
    const health = await runCli(['health', '--json'], { cwd });
    expect(health.code).toBe(1);
    const healthReport = JSON.parse(health.stdout);
    expect(healthReport).toMatchObject({ healthy: false, backend: { name: 'wasm' }, last_run: { status: 'success' }, symbols: [{ symbol: 'SPX', healthy: true, stale: true, data_age_days: days }] });
    expect(healthReport.problems).toEqual([
      `SPX: the latest stored session is 2020-04-17, ${days} days before ${new Date().toISOString().slice(0, 10)} (more than signals.max_data_age_days, 5): its signals are stale`,
    ]);

    const noModel = await runCli(['predict', '--symbol', 'SPX', '--as-of', '2019-12-31', '--no-fallback'], { cwd });
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/no model could forecast SPX at 2019-12-31: lstm: model SPX-\S+ was trained on data through 2020-04-17, after 2019-12-31/);
    // tiny.json turns the skill gate off: the fallback chain answers without having shown skill (with it on, the base rate would).
    const fallback = JSON.parse((await runCli(['predict', '--symbol', 'SPX', '--as-of', '2019-12-31', '--config', 'tiny.json', '--json'], { cwd })).stdout);
    expect(fallback).toMatchObject({ created: true, signal: { as_of: '2019-12-31', source: 'arima' } });

    // 2020-04-17 is a Friday: the weekly trigger asks for an incremental training, run in a child process.
    const report = JSON.parse((await runCli(['check-triggers'], { cwd })).stdout);
    expect(report.checks.map((c: { symbol: string; trigger: string; mode: string; recorded: unknown }) => [c.symbol, c.trigger, c.mode, c.recorded])).toEqual([['SPX', 'weekly', 'incremental', null]]);
    const ran = JSON.parse((await runCli(['check-triggers', '--run', '--config', 'tiny.json'], { cwd })).stdout);
    expect(ran.checks[0]).toMatchObject({ trigger: 'weekly', recorded: { session: '2020-04-17', trigger_type: 'weekly' } });
    expect(ran.queue.recent[0]).toMatchObject({ id: ran.checks[0].job_id, symbol: 'SPX', training_type: 'incremental', status: 'succeeded' });
    const again = JSON.parse((await runCli(['check-triggers', '--run'], { cwd })).stdout);
    expect(again.checks[0]).toMatchObject({ trigger: null, job_id: null, reason: 'a training was already decided for 2020-04-17: at most one per session' });

    const monitoring = JSON.parse((await runCli(['status'], { cwd })).stdout);
    expect(monitoring.symbols[0]).toMatchObject({ symbol: 'SPX', current_version: ran.queue.recent[0].version_id, predictions_last_7_days: 1 });
    expect(monitoring.queue).toMatchObject({ concurrency: 2, running: [], queued: [] });
    const calibration = JSON.parse((await runCli(['calibration'], { cwd })).stdout);
    expect(Object.keys(calibration.overall.by_confidence)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('with the skill gate on (the default), the README first command gives a stale base-rate HOLD and says both', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-cli-'));
    // A toy network on the default five years: the gate refuses it, and no fallback tier has shown skill either
    // (the technical rules' out-of-fold AUC on those years is 0.506, p 0.43; ARIMA has only the holdout).
    writeFileSync(path.join(cwd, 'tiny-gated.json'), JSON.stringify({ training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0 } }));
    const weekly = await runCli(['weekly', '--config', 'tiny-gated.json'], { cwd });
    expect(weekly.code).toBe(0);
    const days = daysSinceLastBundledBar();
    const lines = weekly.stdout.split('\n');
    expect(lines[1]).toMatch(/^SPX\s+2020-04-17\s+STALE\s+HOLD\s+1\s.*\sbase_rate\s+no$/);
    expect(lines.slice(2, 5)).toEqual([
      `STALE: these are the signals of 2020-04-17 (SPX's last bar, ${days} days before today); the bundled data ends there.`,
      'SPX: no forecaster has shown skill on SPX',
      'status success: 1 signal(s), 0 failure(s)',
    ]);
    // A second run keeps what the first trained, and says so.
    const again = await runCli(['weekly', '--config', 'tiny-gated.json'], { cwd });
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n')[0]).toBe(
      "SPX: not retrained: its latest training's data ended 2020-04-17, 0 days before its latest bar (within weekly.cache_days; --force-retrain retrains)",
    );
    expect(again.stderr).not.toMatch(/\[SPX\]/);

    // Health: the stale data is the problem; the refused model is a note (the base rate answers by design).
    const health = await runCli(['health'], { cwd });
    expect(health.code).toBe(1);
    const today = new Date().toISOString().slice(0, 10);
    expect(health.stdout.split('\n')).toEqual([
      expect.stringMatching(/^UNHEALTHY — backend wasm; last weekly run: \S+ \(success\)$/),
      `  FAIL SPX: no model (the skill gate refused the latest); last bar 2020-04-17, ${days} days ago (STALE); no skill shown; 0 training failure(s)`,
      `  SPX: the latest stored session is 2020-04-17, ${days} days before ${today} (more than signals.max_data_age_days, 5): its signals are stale`,
      expect.stringMatching(/^ {2}note: no forecaster has shown skill on SPX \(the skill gate refused SPX's latest model: no skill shown: .+\); its signals are base-rate HOLDs$/),
      '',
    ]);
  });
});

describe.each(testDatabases)('migrate on $name', (db) => {
  let url: string;
  let drop: () => Promise<void>;
  const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-cli-'));
  beforeAll(async () => {
    ({ url, drop } = await db.create());
    // An in-memory database would vanish between processes: use a file for SQLite.
    if (db.name === 'sqlite') url = `sqlite:${path.join(cwd, 'cli.sqlite')}`;
  });
  afterAll(async () => drop());

  it('applies, reports, reverts and re-applies the schema', async () => {
    // Every migration, oldest first: the list grows with the schema.
    const names = migrations.map((migration) => new migration().name);
    expect(names.slice(0, 4)).toEqual(['InitialSchema1763700000000', 'RuntimeTables1763800000000', 'Backtests1763900000000', 'LiveSkill1764000000000']);
    const status = (applied: number) => names.map((name, i) => `${i < applied ? 'applied' : 'pending'}  ${name}\n`).join('');
    expect((await runCli(['migrate', '--status', '--db', url], { cwd })).stdout).toBe(status(0));
    expect((await runCli(['migrate', '--db', url], { cwd })).stdout).toBe(names.map((name) => `applied  ${name}\n`).join(''));
    expect((await runCli(['migrate'], { cwd, env: { LSTM_DB_URL: url } })).stdout).toMatch(/^schema up to date on /);
    expect((await runCli(['migrate', '--status', '--db', url], { cwd })).stdout).toBe(status(names.length));
    expect((await runCli(['migrate', '--revert', '--db', url], { cwd })).stdout).toMatch(new RegExp(`^reverted ${names.at(-1)} on `));
    expect((await runCli(['migrate', '--status', '--db', url], { cwd })).stdout).toBe(status(names.length - 1));
    expect((await runCli(['migrate', '--revert', '--all', '--db', url], { cwd })).stdout).toMatch(
      new RegExp(`^${names.slice(0, -1).reverse().map((name) => `reverted ${name} on .*`).join('\\n')}`),
    );
    expect((await runCli(['migrate', '--status', '--db', url], { cwd })).stdout).toBe(status(0));
  });
});

describe('queue from the command line', () => {
  it('lists every job with its worker and attempts; --cancel and --retry change one, and say why they refuse', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-cli-queue-'));
    const db = `sqlite:${path.join(cwd, 'q.sqlite')}`;
    expect((await runCli(['migrate', '--db', db], { cwd })).code).toBe(0);
    const store = await Store.open({ url: db, migrate: false });
    try {
      const job = (fields: Partial<TrainingJobRow>) => store.repos.trainingJob.save({ training_type: 'fast', trigger_type: 'manual', session: null, attempts: 0, ...fields } as TrainingJobRow);
      const running = await job({ symbol: 'AAA', status: 'running', attempts: 2, worker: 'host-b:4242:77', active_key: 'AAA|fast|manual', started_at: new Date(), progress_json: { symbol: 'AAA', stage: 'cv', step: 'params 1/8, fold 2/5' } });
      const queued = await job({ symbol: 'BBB', status: 'queued', active_key: 'BBB|fast|manual' });
      const failed = await job({ symbol: 'CCC', status: 'failed', attempts: 3, error: 'worker host-c:1:2 died during the job (attempt 3 of 3: its lease ran out)', finished_at: new Date() });

      // A command that does not train never starts a queued job, whatever is queued.
      expect((await runCli(['status', '--db', db], { cwd })).code).toBe(0);
      expect(await store.repos.trainingJob.findOneByOrFail({ id: queued.id })).toMatchObject({ status: 'queued', attempts: 0, worker: null });

      const listed = await runCli(['queue', '--db', db], { cwd });
      expect(listed.code).toBe(0);
      expect(listed.stdout.split('\n').slice(0, 6)).toEqual([
        'running: 1',
        `  #${running.id}  running   AAA fast (manual)  attempts 2  on host-b:4242:77  cv params 1/8, fold 2/5`,
        'queued: 1',
        `  #${queued.id}  queued    BBB fast (manual)  attempts 0`,
        'recent: 1',
        `  #${failed.id}  failed    CCC fast (manual)  attempts 3  worker host-c:1:2 died during the job (attempt 3 of 3: its lease ran out)`,
      ]);

      expect((await runCli(['queue', '--db', db, '--cancel', String(queued.id)], { cwd })).stdout).toContain(`#${queued.id}  failed    BBB fast (manual)  attempts 0  cancelled while queued`);
      expect((await runCli(['queue', '--db', db, '--cancel', String(running.id)], { cwd })).stdout).toContain(`#${running.id}  running   AAA fast (manual)  attempts 2  on host-b:4242:77  cv params 1/8, fold 2/5  cancel requested`);
      const retried = JSON.parse((await runCli(['queue', '--db', db, '--retry', String(failed.id), '--json'], { cwd })).stdout).job;
      expect(retried).toMatchObject({ id: failed.id, status: 'queued', attempts: 0, active_key: 'CCC|fast|manual' });
      const refused = await runCli(['queue', '--db', db, '--retry', String(running.id)], { cwd });
      expect([refused.code, refused.stderr.trim()]).toEqual([2, `lstm-signals: training job ${running.id} is running: only a failed job can be retried`]);
      expect((await runCli(['queue', '--db', db, '--cancel', 'x'], { cwd })).stderr).toContain("option '--cancel <id>' argument 'x' is invalid. a job id (a positive integer)");
    } finally {
      await store.close();
    }
  });
});
