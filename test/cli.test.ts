import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { testDatabases } from './support/databases.js';

describe('lstm-signals --help', () => {
  const cwd = tmpdir();
  it.each([[[]], [['ingest']], [['migrate']], [['bars']], [['bars', 'check']], [['features']], [['train']], [['spec']], [['versions']], [['rollback']], [['weekly']], [['predict']], [['health']], [['check-triggers']], [['status']], [['decay']], [['alerts']], [['calibration']]])('documents %j', async (command) => {
    const { code, stdout } = await runCli([...command, '--help'], { cwd });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: lstm-signals/);
    if (command.length === 0) expect(stdout).toMatch(/ingest[\s\S]*migrate[\s\S]*bars/);
  });

  it('rejects an unknown command with exit code 1', async () => {
    const { code, stderr } = await runCli(['frobnicate'], { cwd });
    expect(code).toBe(1);
    expect(stderr).toMatch(/unknown command 'frobnicate'/);
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
    writeFileSync(path.join(cwd, 'tiny.json'), JSON.stringify({ training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0 } }));
    const { code, stdout, stderr } = await runCli(['train', '--symbol', 'SPX', '--start', '2017-01-01', '--config', 'tiny.json', '--json'], { cwd });
    expect(code).toBe(0);
    const outcome = JSON.parse(stdout);
    expect(outcome).toMatchObject({ deployed: true, reason: 'first model for this symbol', run: { symbol: 'SPX', training_type: 'fast', trigger_type: 'manual' } });
    expect(outcome.holdout.n).toBe(63);
    expect(stderr).toMatch(/\[SPX\] cv params 1\/1, fold 3\/3 epoch 1\/1 loss \d/);
    expect(stderr).toMatch(/\[SPX\] refit all but the holdout epoch 1\/1/);

    // A second model kept beside the first (forced through the gate), then a rollback to the first.
    writeFileSync(path.join(cwd, 'forced.json'), JSON.stringify({ training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0, min_f1_improvement: -1, seed: 5 } }));
    const second = JSON.parse((await runCli(['train', '--symbol', 'SPX', '--start', '2017-01-01', '--config', 'forced.json', '--json'], { cwd })).stdout);
    expect(second.deployed).toBe(true);
    const listed = (await runCli(['versions', '--symbol', 'SPX'], { cwd })).stdout.trim().split('\n');
    expect(listed.map((line) => /^([* ]) (\S+)/.exec(line)!.slice(1))).toEqual([['*', second.versionId], [' ', outcome.versionId]]);
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
  it('runs the weekly job, reports health, and predicts', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'lstm-cli-'));
    expect((await runCli(['health'], { cwd })).code).toBe(1); // nothing stored yet: unhealthy
    writeFileSync(path.join(cwd, 'tiny.json'), JSON.stringify({ training: { fast_params: { lr: 0.003, hidden: 4, epochs: 1 }, importance_repeats: 0 }, weekly: { lookback_sessions: 600 } }));
    const weekly = await runCli(['weekly', '--config', 'tiny.json'], { cwd });
    expect(weekly.code).toBe(0);
    expect(weekly.stdout).toMatch(/^symbol\s+as of\s+grade/);
    expect(weekly.stdout).toMatch(/\nSPX\s+2020-04-17\s+(STRONG_BUY|BUY|HOLD|SELL|STRONG_SELL)\s+[1-5]\s/);
    expect(weekly.stdout).toMatch(/status success: 1 signal\(s\), 0 failure\(s\)/);
    expect(weekly.stderr).toMatch(/\[SPX\] refit all but the holdout — 1 epochs/);
    for (const file of ['weekly_trading_signals/lstm_status.json', 'logs']) expect(existsSync(path.join(cwd, file))).toBe(true);

    const health = await runCli(['health', '--json'], { cwd });
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ healthy: true, backend: { name: 'wasm' }, last_run: { status: 'success' } });

    const noModel = await runCli(['predict', '--symbol', 'SPX', '--as-of', '2019-12-31', '--no-fallback'], { cwd });
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/no model could forecast SPX at 2019-12-31: lstm: model SPX-\S+ was trained on data through 2020-04-17, after 2019-12-31/);
    const fallback = JSON.parse((await runCli(['predict', '--symbol', 'SPX', '--as-of', '2019-12-31', '--json'], { cwd })).stdout);
    expect(fallback).toMatchObject({ created: true, signal: { as_of: '2019-12-31', source: 'arima' } });

    // 2020-04-17 is a Friday: the weekly trigger asks for an incremental training, run in a child process.
    const report = JSON.parse((await runCli(['check-triggers'], { cwd })).stdout);
    expect(report.checks.map((c: { symbol: string; trigger: string; mode: string; recorded: unknown }) => [c.symbol, c.trigger, c.mode, c.recorded])).toEqual([['SPX', 'weekly', 'incremental', null]]);
    const ran = JSON.parse((await runCli(['check-triggers', '--run', '--config', 'tiny.json'], { cwd })).stdout);
    expect(ran.checks[0]).toMatchObject({ trigger: 'weekly', recorded: { session: '2020-04-17', trigger_type: 'weekly' } });
    expect(ran.queue.recent[0]).toMatchObject({ id: ran.checks[0].job_id, symbol: 'SPX', training_type: 'incremental', status: 'succeeded' });
    const again = JSON.parse((await runCli(['check-triggers', '--run'], { cwd })).stdout);
    expect(again.checks[0]).toMatchObject({ trigger: null, job_id: null, reason: 'a training was already decided for 2020-04-17: at most one per session' });

    const status = JSON.parse((await runCli(['status'], { cwd })).stdout);
    expect(status.symbols[0]).toMatchObject({ symbol: 'SPX', current_version: ran.queue.recent[0].version_id, predictions_last_7_days: 1 });
    expect(status.queue).toMatchObject({ concurrency: 2, running: [], queued: [] });
    const calibration = JSON.parse((await runCli(['calibration'], { cwd })).stdout);
    expect(Object.keys(calibration.overall.by_confidence)).toEqual(['1', '2', '3', '4', '5']);
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
    const both = (state: string) => `${state}  InitialSchema1763700000000\n${state}  RuntimeTables1763800000000\n${state}  Backtests1763900000000\n`;
    expect((await runCli(['migrate', '--status', '--db', url], { cwd })).stdout).toBe(both('pending'));
    expect((await runCli(['migrate', '--db', url], { cwd })).stdout).toBe(both('applied'));
    expect((await runCli(['migrate'], { cwd, env: { LSTM_DB_URL: url } })).stdout).toMatch(/^schema up to date on /);
    expect((await runCli(['migrate', '--status', '--db', url], { cwd })).stdout).toBe(both('applied'));
    expect((await runCli(['migrate', '--revert', '--db', url], { cwd })).stdout).toMatch(/^reverted Backtests1763900000000 on /);
    expect((await runCli(['migrate', '--status', '--db', url], { cwd })).stdout).toBe(
      'applied  InitialSchema1763700000000\napplied  RuntimeTables1763800000000\npending  Backtests1763900000000\n',
    );
    expect((await runCli(['migrate', '--revert', '--all', '--db', url], { cwd })).stdout).toMatch(/^reverted RuntimeTables1763800000000 on .*\nreverted InitialSchema1763700000000 on /);
    expect((await runCli(['migrate', '--status', '--db', url], { cwd })).stdout).toBe(both('pending'));
  });
});
