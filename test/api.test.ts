import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BarStore,
  LstmModel,
  ModelRegistry,
  SEQ_LEN,
  Store,
  createPlugin,
  manifest,
  plotData,
  trainingSpec,
  wilsonInterval,
  type LstmSignalsPlugin,
  type Logger,
  type ModelMetadata,
  type TrainingJobRow,
} from '../plugin/index.js';
import { trainingModeOf } from '../plugin/api/model-routes.js';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { replayBacktest, type ReplayResult } from '../adapters/standalone/backtest-replay.js';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { startHttpServer, type RunningHttpServer } from '../adapters/standalone/http-server.js';
import { runWalkForward } from '../adapters/standalone/walk-forward.js';
import { testDatabases } from './support/databases.js';
import { SPX_CSV } from './support/spx.js';
import { TINY_TRAINING } from './support/tiny-training.js';

const TOKEN = 'api-test-admin-token';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value));
/** A response body: checked by value against the plugin's own results, so its type adds nothing. */
type Body = any;

// Real S&P bars 2015-06..2019-12 as SPX, and the same from 2018 as IDX: a second symbol that never gets a model.
const [header, ...rows] = readFileSync(SPX_CSV, 'utf8').trim().split('\n');
const spxRows = rows.filter((r) => r >= '2015-06-01' && r < '2020');
const work = mkdtempSync(path.join(tmpdir(), 'lstm-api-'));
const dataDir = path.join(work, 'data');
const backtestsDir = path.join(work, 'backtests');
const sessions = spxRows.map((r) => r.split(',')[0]!);
const closeOn = (date: string) => Number(spxRows.find((r) => r.startsWith(date))!.split(',')[4]);

describe('trainingModeOf: the original API’s flags', () => {
  it('fast_training, or do_cv_tune false, is fast; otherwise full', () => {
    expect(trainingModeOf({ fast_training: true, do_cv_tune: true })).toBe('fast');
    expect(trainingModeOf({ do_cv_tune: false })).toBe('fast');
    expect(trainingModeOf({ fast_training: false, do_cv_tune: true })).toBe('full');
    expect(trainingModeOf({})).toBe('full');
  });
});

let replay: ReplayResult;

beforeAll(async () => {
  mkdirSync(dataDir);
  writeFileSync(path.join(dataDir, 'SPX.csv'), [header, ...spxRows].join('\n'));
  writeFileSync(path.join(dataDir, 'IDX.csv'), [header, ...spxRows.filter((r) => r >= '2018')].join('\n'));
  // A walk-forward backtest over two months into the backtests folder, replayed once: what GET /backtests/:id reads.
  const dbUrl = `sqlite:${path.join(backtestsDir, 'bt-api.sqlite')}`;
  await runWalkForward({
    source: new CsvBarSource(dataDir, { strict: true }),
    name: 'bt-api',
    from: '2019-11-01',
    to: '2019-12-31',
    mode: 'fast',
    symbols: ['SPX'],
    dbUrl,
    config: { training: TINY_TRAINING, triggers: { lookback_sessions: 300 } },
    logger: quiet,
  });
  const store = await Store.open({ url: dbUrl, migrate: false });
  try {
    replay = await replayBacktest(store, 'bt-api', 'lstm-swing');
  } finally {
    await store.close();
  }
});

describe.each(testDatabases)('the HTTP API over real HTTP on $name', (db) => {
  let plugin: LstmSignalsPlugin;
  let host: StandaloneHost;
  let server: RunningHttpServer;
  let drop: () => Promise<void>;
  /** v1: the fast model POST /train makes; v2: an incremental one on top of it. */
  let v1: string;
  let v2: string;

  beforeAll(async () => {
    const created = await db.create();
    drop = created.drop;
    plugin = createPlugin({ db_url: created.url, training: TINY_TRAINING, triggers: { runner: 'inline' }, backtests_dir: backtestsDir });
    host = new StandaloneHost({ source: new CsvBarSource(dataDir, { strict: true }), logger: quiet });
    await plugin.activate(host);
    server = await startHttpServer({ host, adminToken: TOKEN });
  });

  afterAll(async () => {
    await plugin.trainingIdle();
    await server.close();
    await plugin.deactivate();
    await drop();
  });

  async function call(method: 'GET' | 'POST', route: string, options: { body?: unknown; token?: string | null } = {}) {
    const token = options.token === undefined ? TOKEN : options.token;
    const response = await fetch(`${server.url}/api/lstm${route}`, {
      method,
      headers: { ...(token && { authorization: `Bearer ${token}` }), ...(method === 'POST' && { 'content-type': 'application/json' }) },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const body = (await response.json()) as Body;
    // Every error names its request, in the body and in X-Request-Id alike.
    if (response.status >= 400) {
      expect(body.request_id).toBe(response.headers.get('x-request-id'));
      delete body.request_id;
    }
    return { status: response.status, body };
  }

  it('registers the routes manifest.json declares, with the same access', () => {
    expect(host.routes.map((r) => [r.method, r.path, r.access])).toEqual(manifest.contributes.routes.map((r) => [r.method, r.path, r.access]));
  });

  it.each([
    ['GET', '/bars?symbol=SPX', undefined, 'symbol: is not a known field'],
    ['GET', '/predict?use_fallback=1', undefined, 'symbol: is required'],
    ['GET', '/predict?symbol=SPX&trigger_train_async=maybe', undefined, 'trigger_train_async: must be boolean'],
    ['GET', '/signals?limit=3', undefined, 'limit: is not a known field'],
    ['POST', '/update-accuracy', { symbol: 'SPX', as_of_date: '2019-02-30' }, 'as_of_date: must match format "date"'],
    ['GET', '/calibration?set=live', undefined, 'set: is not a known field'],
    ['POST', '/train', { symbol: 'SPX', fast_training: 'yes' }, 'fast_training: must be boolean'],
    ['POST', '/train', { simbol: 'SPX' }, 'symbol: is required; simbol: is not a known field'],
    ['POST', '/train', { symbol: 'SPX', start: '2019-06-03', end: '2019-01-02' }, 'end: must not be before start (2019-06-03)'],
    ['GET', '/jobs/abc', undefined, 'id: must be integer'],
    ['GET', '/jobs/0', undefined, 'id: must be >= 1'],
    ['POST', '/jobs/0/retry', {}, 'id: must be >= 1'],
    ['POST', '/jobs/abc/cancel', {}, 'id: must be integer'],
    ['POST', '/jobs/1/cancel', { force: true }, 'force: is not a known field'],
    ['GET', '/plot-data?symbol=SPX&years=4', undefined, 'years: must be equal to one of the allowed values (1, 2, 3)'],
    ['GET', '/training-runs?limit=0', undefined, 'limit: must be >= 1'],
    ['GET', '/versions?symbol=bad%20symbol', undefined, 'symbol: must match pattern "^[A-Za-z0-9._^-]{1,32}$"'],
    ['POST', '/rollback', { symbol: 'SPX' }, 'version_id: is required'],
    ['GET', '/training-spec?format=md', undefined, 'format: is not a known field'],
    ['GET', '/monitoring?symbol=SPX', undefined, 'symbol: is not a known field'],
    ['GET', '/performance-decay?symbol=SPX&n_recent=0', undefined, 'n_recent: must be >= 1'],
    ['POST', '/alerts', { fire: 'yes' }, 'fire: must be boolean'],
    ['POST', '/check-triggers', { run: 1 }, 'run: must be boolean'],
    ['GET', '/backtests/bad!name', undefined, 'id: must match pattern "^[A-Za-z0-9._-]{1,64}$"'],
  ] as const)('%s %s with invalid input: 400 naming the field', async (method, route, body, error) => {
    expect(await call(method, route, { body })).toEqual({ status: 400, body: { error } });
  });

  const adminRoutes = [
    ['POST', '/train', { symbol: 'SPX' }],
    ['GET', '/predict?symbol=SPX', undefined],
    ['POST', '/update-accuracy', { symbol: 'SPX' }],
    ['POST', '/rollback', { symbol: 'SPX', version_id: 'x' }],
    ['GET', '/performance-decay?symbol=SPX', undefined],
    ['POST', '/alerts', {}],
    ['POST', '/check-triggers', {}],
    ['POST', '/jobs/1/retry', {}],
    ['POST', '/jobs/1/cancel', {}],
  ] as const;

  it('declares exactly the routes that write as admin', () => {
    expect(host.routes.filter((r) => r.access === 'admin').map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      adminRoutes.map(([method, route]) => `${method} /api/lstm${route.split('?')[0]!.replace(/\/jobs\/\d+\//, '/jobs/:id/')}`).sort(),
    );
  });

  it.each(adminRoutes)('%s %s: 401 without the admin token, 403 with a wrong one', async (method, route, body) => {
    expect(await call(method, route, { body, token: null })).toEqual({ status: 401, body: { error: 'this route needs Authorization: Bearer <LSTM_ADMIN_TOKEN>' } });
    expect(await call(method, route, { body, token: 'guess' })).toEqual({ status: 403, body: { error: 'the admin token is wrong' } });
  });

  it.each([
    ['POST', '/train', { symbol: 'NOPE', fast_training: true }],
    ['GET', '/predict?symbol=NOPE', undefined],
    ['GET', '/plot-data?symbol=NOPE', undefined],
    ['GET', '/training-runs?symbol=NOPE', undefined],
    ['GET', '/versions?symbol=NOPE', undefined],
    ['POST', '/rollback', { symbol: 'NOPE', version_id: 'NOPE-1' }],
    ['POST', '/update-accuracy', { symbol: 'NOPE' }],
    ['GET', '/performance-decay?symbol=NOPE', undefined],
    ['POST', '/check-triggers', { symbol: 'NOPE' }],
  ] as const)('%s %s for a symbol with no stored bars: 404', async (method, route, body) => {
    expect(await call(method, route, { body })).toEqual({ status: 404, body: { error: 'NOPE: no stored bars' } });
  });

  it('POST /train queues the training and answers 202 with the job; GET /jobs/:id shows it and its last progress', async () => {
    const queued = await call('POST', '/train', { body: { symbol: 'SPX', start: '2016-01-04', fast_training: true, do_shap: false, do_plot: true } });
    expect(queued).toEqual({
      status: 202,
      body: {
        job: expect.objectContaining({ symbol: 'SPX', training_type: 'fast', trigger_type: 'manual', session: null, status: 'queued', run_id: null }),
        status_url: `/api/lstm/jobs/${queued.body.job.id}`,
      },
    });
    await plugin.trainingIdle();
    const { status, body } = await call('GET', `/jobs/${queued.body.job.id}`);
    expect(status).toBe(200);
    expect(body.job).toMatchObject({ id: queued.body.job.id, status: 'succeeded', error: null, run_id: expect.any(Number), version_id: expect.stringMatching(/^SPX-/) });
    expect(body.progress).toEqual({ symbol: 'SPX', stage: 'holdout', step: '20 holdout windows' });
    v1 = body.job.version_id;
    // `start` reached the trainer: the first window ends SEQ_LEN sessions after the 33-session indicator warm-up from it.
    const run = await plugin.store!.repos.trainingRun.findOneByOrFail({ id: body.job.run_id });
    expect([run.data_start, run.data_end, run.validation_deployed]).toEqual([sessions.filter((d) => d >= '2016-01-04')[33 + SEQ_LEN - 1], '2019-12-31', true]);
    expect(await call('GET', '/jobs/999999')).toEqual({ status: 404, body: { error: 'no training job 999999' } });
    // The whole queue, every process's: the finished job among the recent ones, with its worker's record cleared.
    const queue = await call('GET', '/jobs');
    expect(queue.status).toBe(200);
    expect(queue.body).toMatchObject({ concurrency: 2, running: [], queued: [] });
    expect(queue.body.recent[0]).toMatchObject({ id: queued.body.job.id, status: 'succeeded', attempts: 1, worker: null, active_key: null, progress_json: body.progress });
  });

  it('GET /versions lists every symbol’s kept versions and current one; POST /rollback sets one back', async () => {
    v2 = (await plugin.train({ symbol: 'SPX', mode: 'incremental' })).versionId;
    const kept = await new ModelRegistry(plugin.store!).list('SPX');
    const versions = await call('GET', '/versions');
    expect(versions).toEqual({
      status: 200,
      body: {
        symbols: [
          { symbol: 'IDX', current_version_id: null, versions: [] },
          { symbol: 'SPX', current_version_id: v2, versions: json(kept.map((v) => ({ ...v, current: v.version_id === v2 }))) },
        ],
      },
    });
    expect(versions.body.symbols[1].versions.map((v: { version_id: string; training_type: string; current: boolean }) => [v.version_id, v.training_type, v.current])).toEqual([
      [v2, 'incremental', true],
      [v1, 'fast', false],
    ]);

    expect(await call('POST', '/rollback', { body: { symbol: 'SPX', version_id: v1 } })).toEqual({ status: 200, body: { symbol: 'SPX', version_id: v1, previous_version_id: v2 } });
    expect((await call('GET', '/versions?symbol=SPX')).body.symbols).toEqual([expect.objectContaining({ symbol: 'SPX', current_version_id: v1 })]);
    expect(await call('POST', '/rollback', { body: { symbol: 'SPX', version_id: 'SPX-none' } })).toEqual({ status: 404, body: { error: 'SPX has no kept version SPX-none' } });
    expect(await call('POST', '/rollback', { body: { symbol: 'IDX', version_id: v1 } })).toEqual({ status: 404, body: { error: `IDX has no kept version ${v1}` } });

    // A corrupted version is refused, and the current one stays.
    await plugin.store!.repos.modelVersion.update({ version_id: v2 }, { model_blob: Buffer.from('corrupted') });
    const refused = await call('POST', '/rollback', { body: { symbol: 'SPX', version_id: v2 } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(new RegExp(`^model version ${v2} is corrupted: checksum [0-9a-f]{12}… \\(9 bytes\\) ≠ stored`));
    expect(await new ModelRegistry(plugin.store!).currentVersionId('SPX')).toBe(v1);
  });

  it('GET /plot-data: predicted vs actual of the current model over the stored bars', async () => {
    const { version, blob } = await new ModelRegistry(plugin.store!).loadBlob(v1);
    const model = await LstmModel.fromBlob(blob, version.metadata_json as unknown as ModelMetadata);
    const expected = plotData(model, v1, await new BarStore(plugin.store!).load('SPX'), 2);
    model.dispose();
    const { status, body } = await call('GET', '/plot-data?symbol=SPX&years=2');
    expect(status).toBe(200);
    expect(body).toEqual(json(expected));
    // As-of sessions from two years before the last bar to five sessions before it; prices realised five sessions later.
    const asOf = sessions.filter((d) => d >= '2017-12-31' && d <= '2019-12-23');
    expect([body.version_id, body.years, body.dates[0], body.dates.at(-1), body.dates.length]).toEqual([v1, 2, '2018-01-02', '2019-12-23', asOf.length]);
    expect([body.dates_price.at(-1), body.actual_price.at(-1), body.actual_price[0]]).toEqual(['2019-12-31', closeOn('2019-12-31'), closeOn('2018-01-09')]);
    expect((await call('GET', '/plot-data?symbol=SPX')).body.years).toBe(1);
    expect(await call('GET', '/plot-data?symbol=IDX')).toEqual({ status: 404, body: { error: 'IDX has no current model' } });
  });

  it('GET /predict predicts the latest session with the current model and logs it once', async () => {
    const first = await call('GET', '/predict?symbol=SPX');
    const logged = await plugin.store!.repos.predictionLog.findOneByOrFail({ symbol: 'SPX', predict_date: '2019-12-31' });
    expect(first).toEqual({
      status: 200,
      body: { prediction_set: 'live', prediction_id: logged.id, created: true, signal: json(logged.signal_json), forecast: expect.objectContaining({ symbol: 'SPX', asOf: '2019-12-31', source: 'lstm', modelVersion: v1 }) },
    });
    expect(first.body.signal).toMatchObject({ symbol: 'SPX', as_of: '2019-12-31', source: 'lstm', model_version: v1, current_price: closeOn('2019-12-31') });
    expect((await call('GET', '/predict?symbol=SPX&use_fallback=true')).body).toMatchObject({ prediction_id: logged.id, created: false });
    expect(await call('GET', '/predict?symbol=IDX&use_fallback=0')).toEqual({
      status: 409,
      body: { error: 'no model could forecast IDX at 2019-12-31: lstm: IDX has no current model version' },
    });
  });

  it('POST /update-accuracy backfills the predictions whose fifth session has come', async () => {
    for (const asOf of ['2019-12-16', '2019-12-17', '2019-12-18']) await plugin.predict('SPX', { asOf });
    const early = await call('POST', '/update-accuracy', { body: { symbol: 'SPX', as_of_date: '2019-12-23' } });
    expect(early).toEqual({ status: 200, body: { symbol: 'SPX', written: [expect.objectContaining({ predict_date: '2019-12-16', actual_date: '2019-12-23' })], pending: 3 } });
    expect(early.body.written[0]).toMatchObject({ prediction_set: 'live', actual_magnitude: closeOn('2019-12-23') / closeOn('2019-12-16') - 1, actual_direction: 1 });
    const rest = await call('POST', '/update-accuracy', { body: { symbol: 'SPX' } });
    expect(rest.body.written.map((r: { predict_date: string; actual_date: string }) => [r.predict_date, r.actual_date])).toEqual([
      ['2019-12-17', '2019-12-24'],
      ['2019-12-18', '2019-12-26'],
    ]);
    expect(rest.body.pending).toBe(1);
  });

  it('GET /signals: the newest logged signal of each symbol', async () => {
    const latest = await plugin.store!.repos.predictionLog.findOneByOrFail({ symbol: 'SPX', predict_date: '2019-12-31' });
    expect(await call('GET', '/signals')).toEqual({
      status: 200,
      body: { prediction_set: 'live', signals: [{ prediction_id: latest.id, logged_at: latest.created_at.toISOString(), signal: json(latest.signal_json) }] },
    });
  });

  it('GET /calibration: hit rates of the backfilled predictions', async () => {
    const { status, body } = await call('GET', '/calibration');
    expect([status, body]).toEqual([200, json(await plugin.calibration())]);
    expect(Object.values(body.overall.by_confidence as Record<string, { n: number }>).reduce((n, b) => n + b.n, 0)).toBe(3);
    expect(Object.keys(body.symbols)).toEqual(['SPX']);
  });

  it('GET /skill: the training’s and the live skill against the baselines, as the plugin reports it', async () => {
    const { status, body } = await call('GET', '/skill?symbol=SPX');
    expect(status).toBe(200);
    expect(body).toEqual(json(await plugin.skill('SPX')));
    // The three backfilled predictions, beside the four baselines kept (ARIMA is off in the toy settings) on the same sessions.
    expect(body.live).toMatchObject({ prediction_set: 'live', symbol: 'SPX', records: 3, without_baselines: 0, served: { n: 3, sample: 'served' } });
    expect(body.live.served.baselines.map((b: { name: string; n: number }) => [b.name, b.n])).toEqual([['majority', 3], ['momentum_5', 3], ['mean_reversion_20', 3], ['technical', 3]]);
    expect(body.training).toMatchObject({ version_id: v1, deployed: true, skill: { holdout: { sample: 'holdout', n: 20 }, gate: { enabled: false } } });
    expect(body.current).toMatchObject({ measured_version_id: v1, sample: 'holdout', n: 20 });
    expect((await call('GET', '/skill?symbol=SPX&set=bt-none')).body.live).toMatchObject({ prediction_set: 'bt-none', records: 0, served: null });
    expect(await call('GET', '/skill?symbol=NOPE')).toEqual({ status: 404, body: { error: 'NOPE: no stored bars' } });
    expect((await call('GET', '/skill')).status).toBe(400);
  });

  it('GET /monitoring: status per symbol', async () => {
    const withoutClock = (status: { generated_at?: string; symbols: Array<{ decay: { detected_at?: string } }> }) => {
      delete status.generated_at;
      for (const s of status.symbols) delete s.decay.detected_at;
      return status;
    };
    const { status, body } = await call('GET', '/monitoring');
    expect(status).toBe(200);
    expect(withoutClock(body)).toEqual(withoutClock(json(await plugin.monitoringStatus())));
    const records = await plugin.store!.repos.accuracyRecord.findBy({ symbol: 'SPX' });
    const hits = records.filter((r) => r.direction_correct).length;
    expect(body.symbols.map((s: Record<string, unknown>) => [s.symbol, s.current_version, s.accuracy_records, s.predictions_last_7_days, s.training_failures])).toEqual([
      ['IDX', null, 0, 0, 0],
      ['SPX', v1, 3, 1, 0],
    ]);
    // The hit rate with its interval, beside the best baseline on the same three sessions.
    const majorityHits = records.filter((r) => r.baselines_json!.majority!.direction === r.actual_direction).length;
    expect(body.symbols[0].hit_rate).toBeNull();
    expect(body.symbols[1].hit_rate).toMatchObject({ n: 3, hit_rate: hits / 3, hit_rate_interval: json(wilsonInterval(hits, 3)) });
    expect(body.symbols[1].hit_rate.best_baseline.hit_rate).toBeGreaterThanOrEqual(majorityHits / 3);
  });

  it('GET /performance-decay runs the decay check and, with log, stores it', async () => {
    const errors = (await plugin.store!.repos.accuracyRecord.find({ where: { symbol: 'SPX' }, order: { actual_date: 'ASC' } })).map((r) => r.error_magnitude);
    const { status, body } = await call('GET', '/performance-decay?symbol=SPX&threshold=2&n_recent=1&log=1');
    expect(status).toBe(200);
    expect(body).toEqual({
      symbol: 'SPX',
      triggered: false,
      recent_avg_error: errors[2],
      historical_avg_error: (errors[0]! + errors[1]!) / 2,
      threshold: null,
      n_recent_samples: 1,
      n_historical_samples: 2,
      baseline: expect.objectContaining({ n: 1, mcnemar_p: 1 }),
      detected_at: expect.any(String),
      reason: expect.stringMatching(/^error rule: 2\/20 earlier records, no history yet; hit rate [01]\/1 not significantly below \w+'s [01]\/1 on the same sessions \(McNemar p 1\.0, alpha 0\.05\)$/),
    });
    expect(await plugin.store!.repos.performanceCheck.find()).toEqual([expect.objectContaining({ symbol: 'SPX', triggered: false, multiplier: 2, n_recent_samples: 1, n_historical_samples: 2 })]);
  });

  it('POST /alerts lists the active alerts; with fire, stores them', async () => {
    const active = [
      {
        alert_type: 'no_recent_training',
        symbol: 'IDX',
        severity: 'critical',
        message: 'IDX: no trained model at 2019-12-31',
        details: { days_since_training: null, max_days_without_training: 30, as_of: '2019-12-31' },
        dedupe_key: 'no_recent_training:IDX',
      },
    ];
    expect(await call('POST', '/alerts')).toMatchObject({ status: 200, body: { active, fired: [] } });
    const fired = await call('POST', '/alerts', { body: { fire: true } });
    expect(fired.body.fired).toEqual([expect.objectContaining({ alert_type: 'no_recent_training', symbol: 'IDX', delivery_status: 'no_webhook', delivery_attempts: 0 })]);
    expect(await plugin.store!.repos.alert.count()).toBe(1);
  });

  it('POST /check-triggers reports what each symbol’s latest session asks for', async () => {
    const { status, body } = await call('POST', '/check-triggers', { body: {} });
    expect(status).toBe(200);
    expect(body.checks.map((c: Record<string, unknown>) => [c.symbol, c.session, c.trigger, c.mode, c.candidates, c.job_id, c.recorded])).toEqual([
      ['IDX', '2019-12-31', 'monthly', 'full', ['monthly', 'quarterly'], null, null],
      ['SPX', '2019-12-31', 'monthly', 'full', ['monthly', 'quarterly'], null, null],
    ]);
    expect(await plugin.store!.repos.triggerDecision.count()).toBe(0);
  });

  it('GET /predict with trigger_train_async records the trigger and queues its training without waiting for it', async () => {
    const { status, body } = await call('GET', '/predict?symbol=SPX&trigger_train_async=1');
    expect(status).toBe(200);
    expect(body.trigger_check).toMatchObject({ symbol: 'SPX', session: '2019-12-31', trigger: 'monthly', mode: 'full', job_id: expect.any(Number) });
    expect(body.trigger_check.recorded).toMatchObject({ symbol: 'SPX', session: '2019-12-31', trigger_type: 'monthly' });
    await plugin.trainingIdle();
    expect(await call('GET', `/jobs/${body.trigger_check.job_id}`)).toEqual({
      status: 200,
      body: {
        job: expect.objectContaining({ symbol: 'SPX', training_type: 'full', trigger_type: 'monthly', session: '2019-12-31', status: 'succeeded' }),
        progress: { symbol: 'SPX', stage: 'holdout', step: '20 holdout windows' },
      },
    });
  });

  it('GET /training-runs: newest first, per symbol, limited', async () => {
    const { status, body } = await call('GET', '/training-runs?symbol=SPX&limit=2');
    expect(status).toBe(200);
    expect(body.runs.map((r: Record<string, unknown>) => [r.training_type, r.trigger_type])).toEqual([
      ['full', 'monthly'],
      ['incremental', 'manual'],
    ]);
    expect(body.runs).toEqual(json(await plugin.trainingRuns({ symbol: 'SPX', limit: 2 })));
    expect((await call('GET', '/training-runs')).body.runs).toHaveLength(3);
  });

  it('GET /training-spec is the generated specification', async () => {
    const { status, body } = await call('GET', '/training-spec');
    expect(status).toBe(200);
    expect(body).toEqual(json(trainingSpec()));
    expect(body).toEqual(JSON.parse(readFileSync(path.join(import.meta.dirname, '../docs/LSTM_TRAINING_SPEC.json'), 'utf8')));
  });

  it('GET /bars: stored coverage per symbol', async () => {
    expect(await call('GET', '/bars')).toEqual({
      status: 200,
      body: {
        symbols: [
          { symbol: 'IDX', first: '2018-01-02', last: '2019-12-31', sessions: sessions.filter((d) => d >= '2018').length },
          { symbol: 'SPX', first: '2015-06-01', last: '2019-12-31', sessions: sessions.length },
        ],
      },
    });
  });

  it('GET /backtests/:id: the register row and the latest replay of a walk-forward backtest', async () => {
    const { status, body } = await call('GET', '/backtests/bt-api');
    expect(status).toBe(200);
    expect(body.backtest).toEqual({
      name: 'bt-api',
      symbols_json: ['SPX'],
      date_from: '2019-11-01',
      date_to: '2019-12-31',
      training_type: 'fast',
      sessions: sessions.filter((d) => d >= '2019-11-01').length,
      created_at: expect.any(String),
    });
    expect(body.replays).toEqual({ 'lstm-swing': json({ reports: replay.reports, direction_accuracy: replay.direction_accuracy, calibration: replay.calibration, skill: replay.skill }) });
    // The folder is the server's business: the answer does not name it.
    expect(await call('GET', '/backtests/bt-none')).toEqual({ status: 404, body: { error: 'no backtest bt-none in the backtests folder' } });
  });

  it('POST /jobs/:id/retry queues a failed job again and POST /jobs/:id/cancel fails a queued one as cancelled; 404 and 409 say why not', async () => {
    // IDX's lock is held by a job running on another machine, so nothing here claims IDX's queued jobs while the test looks.
    const store = plugin.store!;
    const worker = 'gpu-box-2:4242:1764680000000';
    const inAnHour = new Date(Date.now() + 3_600_000);
    const job = (row: Partial<TrainingJobRow>) => store.repos.trainingJob.save({ symbol: 'IDX', training_type: 'fast', trigger_type: 'manual', session: null, attempts: 0, ...row });
    const running = await job({ status: 'running', worker, attempts: 1, started_at: new Date(), lease_expires_at: inAnHour, active_key: 'IDX|fast|manual' });
    await store.repos.trainingLock.insert({ symbol: 'IDX', owner: `${worker} job ${running.id}`, acquired_at: new Date(), expires_at: inAnHour });
    const failed = await job({ status: 'failed', training_type: 'full', trigger_type: 'weekly', session: '2019-12-27', attempts: 3, finished_at: new Date(), error: 'worker gpu-box-3:7:1 died during the job' });
    const twin = await job({ status: 'failed', training_type: 'full', trigger_type: 'weekly', session: '2019-12-27', attempts: 1, finished_at: new Date(), error: 'out of memory' });
    const queued = await job({ status: 'queued', training_type: 'full', session: '2019-12-31', trigger_type: 'monthly', active_key: 'IDX|full|2019-12-31' });
    const row = (id: number) => store.repos.trainingJob.findOneByOrFail({ id });
    try {
      const retried = await call('POST', `/jobs/${failed.id}/retry`, { body: {} });
      expect(retried.status).toBe(200);
      expect(retried.body.job).toMatchObject({ id: failed.id, status: 'queued', attempts: 0, finished_at: null, active_key: 'IDX|full|2019-12-27' });
      expect(await row(failed.id)).toMatchObject({ status: 'queued', attempts: 0, finished_at: null });
      expect(await call('POST', `/jobs/${failed.id}/retry`)).toEqual({ status: 409, body: { error: `training job ${failed.id} is queued: only a failed job can be retried` } });
      // An equal training (same symbol, mode and session) is active now: the twin is refused and stays failed.
      expect(await call('POST', `/jobs/${twin.id}/retry`)).toEqual({
        status: 409,
        body: { error: `training job ${twin.id} is not retried: the same training is already queued as job ${failed.id}` },
      });
      expect((await row(twin.id)).status).toBe('failed');

      const cancelled = await call('POST', `/jobs/${queued.id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.job).toMatchObject({ id: queued.id, status: 'failed', error: 'cancelled while queued', active_key: null });
      expect(await row(queued.id)).toMatchObject({ status: 'failed', error: 'cancelled while queued', active_key: null });
      expect(await call('POST', `/jobs/${queued.id}/cancel`)).toEqual({ status: 409, body: { error: `training job ${queued.id} has failed already: nothing to cancel` } });
      // A running job is asked to stop: its worker (on the other machine) ends it at its next lease renewal.
      expect((await call('POST', `/jobs/${running.id}/cancel`)).body.job).toMatchObject({ id: running.id, status: 'running', worker, error: 'cancel requested' });
      await store.repos.trainingJob.update({ id: running.id }, { error: 'committing' });
      expect(await call('POST', `/jobs/${running.id}/cancel`)).toEqual({ status: 409, body: { error: `training job ${running.id} is committing its outcome: too late to cancel` } });

      expect(await call('POST', '/jobs/999999/retry')).toEqual({ status: 404, body: { error: 'no training job 999999' } });
      expect(await call('POST', '/jobs/999999/cancel')).toEqual({ status: 404, body: { error: 'no training job 999999' } });
    } finally {
      // Nothing of IDX left active for the later tests.
      await store.repos.trainingJob.update({ symbol: 'IDX', status: 'queued' }, { status: 'failed', active_key: null });
      await store.repos.trainingJob.update({ symbol: 'IDX', status: 'running' }, { status: 'failed', worker: null, lease_expires_at: null, active_key: null });
      await store.repos.trainingLock.delete({ symbol: 'IDX' });
    }
  });

  it('sends signals and admin answers with Cache-Control: no-store and the security headers', async () => {
    const answers = await Promise.all(
      [['GET', '/signals'], ['GET', '/predict?symbol=SPX'], ['GET', '/versions'], ['POST', '/alerts']].map(([method, route]) =>
        fetch(`${server.url}/api/lstm${route}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(method === 'POST' && { 'content-type': 'application/json' }) } }),
      ),
    );
    for (const answer of answers) {
      expect([answer.status, ...['cache-control', 'x-frame-options', 'x-content-type-options', 'referrer-policy', 'content-security-policy'].map((name) => answer.headers.get(name))]).toEqual([
        200,
        'no-store',
        'DENY',
        'nosniff',
        'no-referrer',
        "default-src 'none'; frame-ancestors 'none'",
      ]);
    }
  });

  it('serves the panel under a strict Content-Security-Policy: its scripts and styles are same-origin files, nothing inline', async () => {
    const page = await fetch(`${server.url}/lstm`);
    expect([page.status, page.headers.get('content-security-policy'), page.headers.get('x-frame-options')]).toEqual([
      200,
      "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'DENY',
    ]);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map(([, attributes, content]) => [/src="([^"]+)"/.exec(attributes!)?.[1], content])).toEqual([
      ['/lstm/assets/echarts.min.js', ''],
      ['/lstm/assets/panel.js', ''],
    ]);
    expect([...html.matchAll(/<link\b[^>]*href="([^"]+)"/g)].map(([, href]) => href)).toEqual(['/lstm/assets/panel.css']);
    // No inline style element or attribute, no inline event handler, no javascript: URL.
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|javascript:/i);
  });
});
