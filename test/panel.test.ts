/**
 * The /lstm admin panel in a real browser — Debian's chromium driven by playwright-core — against the
 * standalone host's HTTP server and the real plugin, on the bundled S&P 500 bars with toy-sized training.
 * Screenshots of the four tabs, and of the skill card, are written to test-artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { In } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvBarSource } from '../adapters/bars/csv.js';
import { startHttpServer, type RunningHttpServer } from '../adapters/standalone/http-server.js';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { PANEL, PANEL_POLICY, panelRoutes } from '../plugin/panel/panel-routes.js';
import { CHROMIUM, IN_CI } from './support/services.js';
import { createPlugin, Store, type CalibrationReport, type LstmSignalsPlugin, type Logger, type PlotData, type Signal, type TrainingJobRow, type TrainingProgress, type TrainingRunRow } from '../plugin/index.js';
import type { ReliabilityBin } from '../plugin/skill/calibration-map.js';
import type { SkillReport } from '../plugin/skill/skill-report.js';
import type { SkillTable } from '../plugin/skill/skill-table.js';
import { wilsonInterval, type Interval } from '../plugin/skill/stats.js';
import type { TriggerCheck } from '../plugin/triggers/trigger-check.js';
import { backtestReport, LstmSwing, replaySignals } from '../strategies/index.js';
import { SPX_CSV, spxBars } from './support/spx.js';
import { TINY_TRAINING } from './support/tiny-training.js';

const TRAINING_EPOCHS = 12;

const ARTIFACTS = path.join(import.meta.dirname, '../test-artifacts');
const STATIC = path.join(import.meta.dirname, '../plugin/panel/static');
const TOKEN = 'panel-test-token';
const LAST_SESSION = '2020-04-17';
/** Predictions the test logs at earlier sessions, so accuracy and calibration have outcomes to show. */
const PAST_PREDICTIONS = 20;
/** What POST /train and GET /jobs/:id answer (the former without progress). */
interface JobState {
  job: TrainingJobRow;
  progress?: TrainingProgress | null;
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The page's globals the test reads; functions run in the page reach them through `globalThis` (the test compiles without the DOM library). */
interface PageGlobals {
  lstmCharts: Record<string, { getOption(): { xAxis: Array<{ data: unknown[] }>; series: Array<{ name: string; data: unknown[] }> } }>;
  jobRenders: string[];
  jobObserver: InstanceType<PageGlobals['MutationObserver']>;
  localStorage: { getItem(key: string): string | null };
  scrollTo(x: number, y: number): void;
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: { childList: boolean }): void; disconnect(): void };
}

/** The panel's number formats, so the cells can be compared exactly. */
const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;
const num = (x: number, digits = 4) => x.toFixed(digits);
const signed = (x: number | null, digits = 3) => {
  if (x === null) return '–';
  const magnitude = Math.abs(x).toFixed(digits);
  return Number(magnitude) === 0 ? magnitude : `${x > 0 ? '+' : '−'}${magnitude}`;
};
const between = (i: Interval) => `[${pct(i.low, 1)}, ${pct(i.high, 1)}]`;
const pValue = (p: number) => (p < 0.001 ? '< 0.001' : p.toFixed(3));

/** What the latest training stored under metrics_json.skill, as far as the panel reads it. */
interface TrainingSkill {
  gate: { enabled: boolean; passed: boolean; reason: string; alpha: number };
  holdout: SkillTable;
  calibration: { ece_raw: number; ece_calibrated: number; reliability_raw: ReliabilityBin[]; reliability_calibrated: ReliabilityBin[] };
  conformal: { coverage: number; lower: number; upper: number; n: number; realised_coverage: number } | null;
}

/** A skill table's rows as the panel shows them: the subject, then each baseline with its paired test against the subject. */
function skillCells(t: SkillTable): { names: string[]; cells: string[][] } {
  const rows = [t.subject, ...t.baselines];
  return {
    names: rows.map((r) => r.name),
    cells: rows.map((r, i) => {
      const pair = i === 0 ? undefined : t.paired.find((p) => p.baseline === r.name)!;
      const d = pair?.brier_difference;
      return [
        String(r.n),
        pct(r.hit_rate, 1),
        between(r.hit_rate_interval),
        signed(r.brier_skill),
        signed(r.ic),
        pair ? `${pValue(pair.mcnemar.p_value)} (${pair.mcnemar.b} : ${pair.mcnemar.c})` : '–',
        d ? `${signed(d.mean, 4)} [${signed(d.interval.low, 4)}, ${signed(d.interval.high, 4)}]` : '–',
        d ? pValue(d.p_value) : '–',
      ];
    }),
  };
}

/** A reliability diagram's points: the non-empty bins, each [mean P(up), frequency, n, low, high]. */
const reliabilityPoints = (bins: ReliabilityBin[]) => bins.filter((b) => b.n > 0).map((b) => [b.mean_prob, b.frequency, b.n, b.low, b.high]);

describe('panel routes', () => {
  const routes = panelRoutes();
  const get = (path: string, params: Record<string, string> = {}) =>
    routes.find((r) => r.method === 'GET' && r.path === path)!.handler({ query: {}, body: undefined, params, headers: {} });

  it('declares the panel and serves its page publicly', async () => {
    expect(PANEL).toEqual({ id: 'lstm', title: 'LSTM signals', path: '/lstm' });
    expect(routes.map((r) => [r.method, r.path, r.access])).toEqual([
      ['GET', '/lstm', 'public'],
      ['GET', '/lstm/assets/:file', 'public'],
    ]);
    expect(await get('/lstm')).toEqual({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: readFileSync(path.join(STATIC, 'index.html'), 'utf8'),
      headers: { 'content-security-policy': PANEL_POLICY },
    });
  });

  it('serves exactly the whitelisted assets, ECharts from the installed package', async () => {
    const echarts = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
    expect(echarts).toBe(path.join(import.meta.dirname, '../node_modules/echarts/dist/echarts.min.js'));
    const expected: Array<[string, string, string]> = [
      ['panel.js', 'text/javascript; charset=utf-8', path.join(STATIC, 'panel.js')],
      ['panel.css', 'text/css; charset=utf-8', path.join(STATIC, 'panel.css')],
      ['echarts.min.js', 'text/javascript; charset=utf-8', echarts],
    ];
    for (const [file, contentType, source] of expected) {
      expect(await get('/lstm/assets/:file', { file })).toEqual({ status: 200, contentType, body: readFileSync(source, 'utf8') });
    }
    for (const file of ['index.html', '../panel-routes.ts', '..%2Fpanel-routes.ts', 'echarts.js', 'toString', '__proto__']) {
      expect(await get('/lstm/assets/:file', { file })).toEqual({ status: 404, body: { error: `no panel asset ${file}` } });
    }
  });
});

// Without Debian's Chromium the browser suite is skipped (the global set-up says so) — except in CI, where it is required.
const browserMissing = !existsSync(CHROMIUM) && !IN_CI;

describe.skipIf(browserMissing)('the /lstm panel in chromium', () => {
  let plugin: LstmSignalsPlugin;
  let host: StandaloneHost;
  let server: RunningHttpServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let dir: string;
  let firstVersion: string;
  let secondVersion: string;

  /** The API as the panel calls it: GET, or POST with a JSON `body`. */
  async function api<T>(path: string, body?: object): Promise<T> {
    const response = await fetch(`${server.url}/api/lstm${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  }

  /** Every series' data of a chart, and its x-axis categories, as ECharts holds them. */
  function chartData(name: string): Promise<{ x: unknown[]; series: unknown[][] }> {
    return page.evaluate((chart) => {
      const option = (globalThis as unknown as PageGlobals).lstmCharts[chart]!.getOption();
      return { x: option.xAxis[0]!.data, series: option.series.map((s) => s.data) };
    }, name);
  }

  const hasChart = (name: string) => page.evaluate((chart) => chart in (globalThis as unknown as PageGlobals).lstmCharts, name);
  const cellTexts = (selector: string) => page.locator(selector).locator('td').allInnerTexts();

  async function screenshot(tab: string): Promise<void> {
    // From the top, where the sticky header belongs.
    await page.evaluate(() => (globalThis as unknown as PageGlobals).scrollTo(0, 0));
    await page.screenshot({ path: path.join(ARTIFACTS, `panel-${tab}.png`), fullPage: true });
  }

  /**
   * Submits the training form and waits for the result, recording every render of the job box and
   * every job state the API answered, in order.
   */
  async function trainFromForm(): Promise<{ renders: string[]; states: JobState[] }> {
    const answers: Array<Promise<JobState>> = [];
    const onResponse = (response: { url(): string; json(): Promise<unknown> }) => {
      if (/\/api\/lstm\/(train|jobs\/\d+)$/.test(response.url())) answers.push(response.json() as Promise<JobState>);
    };
    page.on('response', onResponse);
    await page.locator('#train-job').evaluate((box) => {
      const globals = globalThis as unknown as PageGlobals;
      globals.jobRenders = [];
      globals.jobObserver = new globals.MutationObserver(() => globals.jobRenders.push(box.innerText));
      globals.jobObserver.observe(box, { childList: true });
    });
    await page.click('#train-form button[type="submit"]');
    await page.locator('#train-result').waitFor({ state: 'visible', timeout: 100_000 });
    page.off('response', onResponse);
    const renders = await page.evaluate(() => {
      const globals = globalThis as unknown as PageGlobals;
      globals.jobObserver.disconnect();
      return globals.jobRenders;
    });
    return { renders, states: await Promise.all(answers) };
  }

  function expectJobFollowed({ renders, states }: Awaited<ReturnType<typeof trainFromForm>>): void {
    const [queued, ...polls] = states;
    expect(queued!.job.status).toBe('queued');
    expect(polls.at(-1)!.job.status).toBe('succeeded');
    // The training runs for seconds (three CV folds, the refit, the holdout): its epochs are seen.
    expect(polls.some(({ job, progress }) => job.status === 'running' && progress?.epochs === TRAINING_EPOCHS)).toBe(true);
    // One render per answer, each showing that answer's status and progress.
    const progressText = ({ job, progress }: JobState) =>
      progress
        ? [progress.stage, progress.step, progress.epochs && `epoch ${progress.epoch}/${progress.epochs}`, progress.loss !== undefined && `loss ${num(progress.loss)}`].filter(Boolean).join(' · ')
        : { queued: 'waiting for a worker…', running: 'starting…' }[job.status as string];
    // A running job's error is the queue's marker while its training commits (`committing`): shown under the progress.
    expect(renders).toEqual(states.map((state) => `Job #${state.job.id} · SPX · fast\n${state.job.status}\n${progressText(state)}${state.job.error ? `\n\n${state.job.error}` : ''}`));
  }

  async function expectTrainResult(run: TrainingRunRow): Promise<void> {
    const result = await page.locator('#train-result').innerText();
    expect(result).toContain(`Version\n${run.version_id}\nDeployed\nyes\nDecision\n${run.validation_reason}\nData\n${run.data_start} → ${run.data_end}`);
    const holdout = run.holdout_metrics_json as Record<string, number>;
    expect(await cellTexts('#train-result tbody tr')).toEqual(['n', 'accuracy', 'f1', 'mse', 'mae', 'rmse', 'direction_accuracy'].map((m) => (m === 'n' ? String(holdout.n) : num(holdout[m]!))));
  }

  async function setUp(): Promise<void> {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the panel test needs Debian's chromium (apt-get install -y chromium); it never downloads a browser`);
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(path.join(tmpdir(), 'lstm-panel-'));
    host = new StandaloneHost({ source: new CsvBarSource(SPX_CSV, { strict: true }), logger: quiet });
    plugin = createPlugin({
      db_url: `sqlite:${path.join(dir, 'panel.sqlite')}`,
      symbols: ['SPX'],
      // Every new model deploys, so the second training becomes current and the rollback has a previous version;
      // 12 epochs keep each fit running for seconds, so the once-a-second poll sees its progress.
      training: { ...TINY_TRAINING, fast_params: { ...TINY_TRAINING!.fast_params!, epochs: TRAINING_EPOCHS }, min_f1_improvement: -1 },
      backtests_dir: path.join(dir, 'backtests'),
    });
    await plugin.activate(host);
    server = await startHttpServer({ host, adminToken: TOKEN });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }

  /** Every test awaits the set-up, so a set-up that fails (no browser in CI) fails each one with the reason. */
  let ready: Promise<void>;
  beforeAll(() => {
    ready = setUp();
    return ready.catch(() => {});
  });
  const step = (name: string, body: () => Promise<void>) =>
    it(name, async () => {
      await ready;
      await body();
    });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await plugin?.deactivate();
  });

  step('opens on Train & predict and shows a refused admin action inline until the token is set', async () => {
    await page.goto(`${server.url}/lstm`);
    await expect.poll(() => page.locator('#signals-table').innerText()).toBe('No predictions yet: predict a symbol above.');
    await page.click('#predict-form button[type="submit"]');
    const error = page.locator('#predict-card .error');
    await error.waitFor({ state: 'visible' });
    expect(await error.innerText()).toBe('GET /predict: 401 this route needs Authorization: Bearer <LSTM_ADMIN_TOKEN> (set the admin token at the top right)');
    await page.fill('#admin-token', TOKEN);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.getItem('lstm-signals:admin-token'))).toBe(TOKEN);
  });

  step('trains from the form, following the queued job until its result and deploy decision', async () => {
    expect(await page.isChecked('#train-form [name="fast_training"]')).toBe(true);
    const followed = await trainFromForm();
    expectJobFollowed(followed);
    const { runs } = await api<{ runs: TrainingRunRow[] }>('/training-runs?symbol=SPX');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.validation_reason).toBe('first model for this symbol');
    firstVersion = runs[0]!.version_id!;
    await expectTrainResult(runs[0]!);
  });

  step('predicts SPX into the signals table, and restores the table on reload', async () => {
    await page.click('#predict-form button[type="submit"]');
    const row = page.locator('#signals-table tr[data-symbol="SPX"]');
    await row.waitFor();
    const { signals } = await api<{ signals: Array<{ signal: Signal }> }>('/signals');
    expect(signals).toHaveLength(1);
    const s = signals[0]!.signal;
    expect([s.as_of, s.source, s.model_version]).toEqual([LAST_SESSION, 'lstm', firstVersion]);
    // The bundled bars end on 2020-04-17 and the clock is the wall clock's: the signal is years old, and says so.
    expect(s.stale).toBe(true);
    expect(s.data_age_days).toBeGreaterThan(5);
    const flags = [`STALE ${s.data_age_days} d old`, ...(s.out_of_distribution ? ['OUT OF DISTRIBUTION'] : [])].join('\n');
    const levels = s.levels_rule === 'conformal' ? `conformal ${pct(s.levels_coverage!, 0)}` : s.levels_rule;
    const expected = [
      'SPX',
      LAST_SESSION,
      flags,
      s.grade,
      s.prob_up > 0.5 ? '▲ up' : '▼ down',
      pct(s.expected_return_5d),
      pct(s.prob_up, 1),
      pct(s.prob_up_raw, 1),
      pct(1 - s.prob_up, 1),
      '●'.repeat(s.confidence) + '○'.repeat(5 - s.confidence),
      `${num(s.stop_loss, 2)} / ${num(s.take_profit, 2)}\n${levels}`,
      'lstm',
    ];
    expect(await cellTexts('#signals-table tr[data-symbol="SPX"]')).toEqual(expected);
    const age = `${s.data_age_days} days (${s.data_age_sessions} sessions) old`;
    const detail = await page.locator('#signals-table tr[data-detail="SPX"]').innerText();
    expect(detail).toContain(`STALE data ${age}: this is the signal of ${LAST_SESSION}, not of today`);
    expect(detail.includes('OUT OF DISTRIBUTION')).toBe(s.out_of_distribution);
    expect(detail).toContain(`lstm: ${s.skill.summary}`);
    const result = await page.locator('#predict-result').innerText();
    expect(result).toContain(`Signal\nSPX ${LAST_SESSION}: ${s.action} (${s.grade}), confidence ${s.confidence}\nData\nSTALE ${age}: this is the signal of ${LAST_SESSION}, not of today`);
    expect(result).toContain(`P(up)\n${pct(s.prob_up, 1)} calibrated · ${pct(s.prob_up_raw, 1)} raw`);
    expect(result).toContain(`Skill\n${s.skill.shown ? 'skill shown' : 'no skill shown'} lstm: ${s.skill.summary}`);
    await page.click('#predict-all');
    await expect.poll(() => page.locator('#predict-progress').innerText()).toBe('Predicted 1 of 1 symbols.');
    expect(await cellTexts('#signals-table tr[data-symbol="SPX"]')).toEqual(expected);

    await page.reload();
    await row.waitFor();
    expect(await cellTexts('#signals-table tr[data-symbol="SPX"]')).toEqual(expected);
  });

  step('draws the 1-year fit curves with exactly the points the API returns, on the original date conventions', async () => {
    await page.click('#fit-form button[value="1"]');
    await page.locator('#fit-charts').waitFor({ state: 'visible' });
    const plot = await api<PlotData>('/plot-data?symbol=SPX&years=1');
    expect(plot.version_id).toBe(firstVersion);
    const n = plot.dates.length;
    // Every labelled as-of session from a year before the last bar (2019-04-17) on.
    expect([n, plot.dates[0], plot.dates[n - 1]]).toEqual([248, '2019-04-17', '2020-04-09']);
    expect(await chartData('fit-direction')).toEqual({ x: plot.dates, series: [plot.actual_direction, plot.predicted_direction, plot.prob_up] });
    expect(await chartData('fit-return')).toEqual({ x: plot.dates, series: [plot.actual_return, plot.predicted_return] });
    expect(await chartData('fit-price')).toEqual({ x: plot.dates_price, series: [plot.actual_price, plot.predicted_price] });
    for (const series of [...(await chartData('fit-direction')).series, ...(await chartData('fit-price')).series]) expect(series).toHaveLength(n);
    expect(await page.locator('#fit-caption').innerText()).toBe(
      `SPX, 1 year: ${n} forecasts ${plot.dates[0]} → ${plot.dates[n - 1]}, model ${firstVersion}, trained through ${plot.trained_through}.`,
    );
  });

  step('rolls back to the previous version after a second training: the current marker moves', async () => {
    expectJobFollowed(await trainFromForm());
    const { runs } = await api<{ runs: TrainingRunRow[] }>('/training-runs?symbol=SPX');
    expect(runs.map((r) => r.validation_deployed)).toEqual([true, true]);
    secondVersion = runs[0]!.version_id!;
    expect(secondVersion).not.toBe(firstVersion);
    await expectTrainResult(runs[0]!);
    await screenshot('train');

    await page.click('[data-tab="runs"]');
    await expect.poll(() => page.locator('#runs-table tbody tr').count()).toBe(2);
    expect(await page.locator('#runs-table tbody tr td:first-child').allInnerTexts()).toEqual(runs.map((r) => String(r.id)));
    const current = page.locator('#versions-table tr.current');
    await expect.poll(() => current.getAttribute('data-version')).toBe(secondVersion);
    expect(await page.locator('#versions-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-version')))).toEqual([secondVersion, firstVersion]);
    expect(await page.locator('#versions-table [data-rollback]').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-rollback')))).toEqual([firstVersion]);

    await page.click(`[data-rollback="${firstVersion}"]`);
    await expect.poll(() => current.getAttribute('data-version')).toBe(firstVersion);
    expect(await page.locator('#versions-table [data-rollback]').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-rollback')))).toEqual([secondVersion]);
    expect(await page.locator('#versions-message').innerText()).toBe(`SPX: current model is now ${firstVersion} (was ${secondVersion}).`);
    const { symbols } = await api<{ symbols: Array<{ current_version_id: string }> }>('/versions');
    expect(symbols.map((s) => s.current_version_id)).toEqual([firstVersion]);
  });

  step('backfills accuracy from the Runs & versions tab', async () => {
    // Sessions whose fifth next session is stored, so each prediction has its outcome.
    const sessions = (await spxBars()).map((b) => b.date);
    const asOf = sessions.slice(-5 - PAST_PREDICTIONS, -5);
    for (const date of asOf) await plugin.predict('SPX', { asOf: date });
    await page.click('#accuracy-form button[type="submit"]');
    await page.locator('#accuracy-result').waitFor({ state: 'visible' });
    const calibration = await api<CalibrationReport>('/calibration');
    const hits = Object.values(calibration.overall.by_confidence).reduce((sum, b) => sum + b.hits, 0);
    // The panel's own prediction on the last session waits for its fifth session.
    expect(await page.locator('#accuracy-result').innerText()).toBe(`Records written\n${PAST_PREDICTIONS}\nStill pending\n1\nDirection right\n${pct(hits / PAST_PREDICTIONS, 1)}`);

    // A report-only check records nothing, so the API answers the same afterwards.
    await page.click('#triggers-form button[type="submit"]');
    await page.locator('#triggers-result tbody tr').waitFor();
    const { checks } = await api<{ checks: Array<TriggerCheck & { job_id: number | null }> }>('/check-triggers', {});
    expect(await cellTexts('#triggers-result tbody tr')).toEqual(
      checks.flatMap((c) => [c.symbol, c.session, c.trigger ?? '–', c.mode ?? '–', c.candidates.join(', ') || '–', c.reason, c.job_id === null ? '–' : `#${c.job_id}`]),
    );
    await screenshot('runs');
  });

  step('shows status, the calibration chart, failures and a backtest equity curve on Monitoring & alerts', async () => {
    const signals = (await plugin.store!.repos.predictionLog.find({ where: { symbol: 'SPX' }, order: { predict_date: 'ASC' } })).map((p) => p.signal_json as unknown as Signal);
    const bars = (await spxBars()).filter((b) => b.date >= signals[0]!.as_of);
    const report = backtestReport(replaySignals(new LstmSwing('SPX'), bars, signals), bars);
    const backtests = await Store.open({ url: `sqlite:${path.join(dir, 'backtests', 'demo.sqlite')}`, migrate: true });
    await backtests.repos.backtest.save({ name: 'demo', symbols_json: ['SPX'], date_from: bars[0]!.date, date_to: LAST_SESSION, training_type: 'fast', sessions: bars.length, report_json: { 'lstm-swing': { reports: [report] } } });
    await backtests.close();

    await page.click('[data-tab="monitoring"]');
    await page.locator('#status-table tbody tr').waitFor();
    const status = await cellTexts('#status-table tbody tr');
    expect(status.slice(0, 3)).toEqual(['SPX', LAST_SESSION, firstVersion]);
    expect(status[7]).toBe(String(PAST_PREDICTIONS));

    await expect.poll(() => hasChart('calibration')).toBe(true);
    const calibration = await api<CalibrationReport>('/calibration');
    const levels = ['1', '2', '3', '4', '5'].map((level) => calibration.overall.by_confidence[level]!);
    expect(levels.reduce((sum, b) => sum + b.n, 0)).toBe(PAST_PREDICTIONS);
    // Hit rate, its Wilson interval as error bars ([level, low, high, n]) and always-up on the same sessions.
    expect(await chartData('calibration')).toEqual({
      x: ['confidence 1', 'confidence 2', 'confidence 3', 'confidence 4', 'confidence 5'],
      series: [levels.map((b) => b.hit_rate), levels.map((b, i) => [i, b.hit_rate_interval.low, b.hit_rate_interval.high, b.n]), levels.map((b) => b.up_rate)],
    });
    expect(await page.locator('#calibration-table tbody tr td:nth-child(2)').allInnerTexts()).toEqual(levels.map((b) => String(b.n)));
    expect(await page.locator('#calibration-table tbody tr td:nth-child(5)').allInnerTexts()).toEqual(levels.map((b) => (b.n ? between(b.hit_rate_interval) : '–')));
    expect(await page.locator('#calibration-table tbody tr td:nth-child(6)').allInnerTexts()).toEqual(levels.map((b) => (b.up_rate === null ? '–' : pct(b.up_rate, 1))));
    expect(await page.locator('#failures-table').innerText()).toContain('Since the current model\nSPX\t0');
    expect(await page.locator('#failures-table').innerText()).toContain('None failed.');

    await page.click('#decay-form button[type="submit"]');
    await page.locator('#decay-result').waitFor({ state: 'visible' });
    const decay = await api<{ triggered: boolean; reason: string }>('/performance-decay?symbol=SPX');
    const decayText = await page.locator('#decay-result').innerText();
    expect(decayText.startsWith(`Triggered\n${decay.triggered ? 'yes' : 'no'}\n`)).toBe(true);
    expect(decayText.endsWith(`\nReason\n${decay.reason}`)).toBe(true);

    await page.click('#alerts-check');
    await page.locator('#alerts-result h3').waitFor();
    const alerts = await api<{ active: Array<{ alert_type: string; symbol: string; severity: string; message: string }>; fired: unknown[] }>('/alerts', {});
    expect(alerts.fired).toEqual([]);
    const rows = alerts.active.map((a) => [a.alert_type, a.symbol, a.severity, a.message].join('\t'));
    expect(await page.locator('#alerts-result').innerText()).toBe(
      [`Active (${rows.length})`, ...(rows.length ? ['Type\tSymbol\tSeverity\tMessage', ...rows] : ['No active alerts.'])].join('\n'),
    );

    await page.fill('#backtest-form [name="id"]', 'demo');
    await page.click('#backtest-form button[type="submit"]');
    await expect.poll(() => hasChart('backtest-equity')).toBe(true);
    expect(await chartData('backtest-equity')).toEqual({
      x: report.equity_curve.map((p) => p.date),
      series: [report.equity_curve.map((p) => p.strategy), report.equity_curve.map((p) => p.buy_and_hold)],
    });
    expect(await cellTexts('#backtest-summary tbody tr')).toEqual([
      'lstm-swing',
      'SPX',
      `${report.from} → ${LAST_SESSION}`,
      pct(report.total_return),
      pct(report.buy_and_hold.total_return),
      report.sharpe === null ? '–' : num(report.sharpe, 2),
      pct(report.max_drawdown),
      String(report.trade_count),
      report.win_rate === null ? '–' : pct(report.win_rate, 1),
    ]);
    await screenshot('monitoring');
    expect(pageErrors).toEqual([]);
  });

  step('shows the skill against the baselines, the reliability diagram and the coverage, exactly as the API reports them', async () => {
    await page.fill('#skill-form [name="symbol"]', 'SPX');
    await page.click('#skill-form button[type="submit"]');
    await page.locator('#skill-card[aria-busy]').waitFor({ state: 'detached' });
    const report = await api<SkillReport>('/skill?symbol=SPX');
    expect(await page.locator('#skill-card .error').isHidden()).toBe(true);
    const training = report.training!.skill as unknown as TrainingSkill;
    const served = report.live.served!;
    // The test's second training was rolled back: the latest training is not the current model.
    expect([report.training!.version_id, report.current_version_id]).toEqual([secondVersion, firstVersion]);
    expect(served.n).toBe(PAST_PREDICTIONS);

    for (const [selector, t] of [['#skill-holdout', training.holdout], ['#skill-served', served]] as const) {
      const { names, cells } = skillCells(t);
      expect(await page.locator(`${selector} tbody tr`).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-forecaster')))).toEqual(names);
      // Every baseline the table kept (ARIMA only where it was measured), the majority — Brier skill's reference — always.
      expect(names.slice(1)).toContain('majority');
      expect(names.length).toBeGreaterThanOrEqual(5);
      const rows = await page.locator(`${selector} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => (td as unknown as { innerText: string }).innerText)));
      expect(rows).toEqual(cells);
      expect(await page.locator(`${selector} tr.best`).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-forecaster')))).toEqual([t.best_baseline.name]);
      expect(await page.locator(`${selector} tr.best td:first-child`).innerText()).toContain('best baseline');
    }
    // The verdicts: the gate's reason (off here: the toy settings), and live against the best baseline.
    expect(await page.locator('[data-verdict="training"]').innerText()).toBe(`gate off not applied, the deploy rule decided. Its verdict: ${training.gate.reason}`);
    const best = served.best_baseline;
    const relation = served.subject.hit_rate > best.hit_rate ? 'above' : served.subject.hit_rate < best.hit_rate ? 'below' : 'level with';
    const mcnemar = served.paired.find((p) => p.baseline === best.name)!.mcnemar.p_value;
    expect(await page.locator('[data-verdict="live"]').innerText()).toBe(
      `${relation === 'level with' ? 'level' : relation} served hit rate ${pct(served.subject.hit_rate, 1)} ${between(served.subject.hit_rate_interval)} of ${served.n} is ${relation} the best baseline, ${best.name} ${pct(best.hit_rate, 1)} on the same sessions (McNemar p ${pValue(mcnemar)}: ${mcnemar < training.gate.alpha ? 'significant' : 'not significant'} at ${training.gate.alpha})`,
    );

    // The reliability diagram holds exactly the API's non-empty bins: holdout raw and calibrated, then live.
    const live = report.live.calibration!;
    const series = await page.evaluate(() => (globalThis as unknown as PageGlobals).lstmCharts.reliability!.getOption().series.map((s) => ({ name: s.name, data: s.data })));
    expect(series).toEqual([
      { name: `holdout raw · ECE ${num(training.calibration.ece_raw, 3)}`, data: reliabilityPoints(training.calibration.reliability_raw) },
      { name: `holdout calibrated · ECE ${num(training.calibration.ece_calibrated, 3)}`, data: reliabilityPoints(training.calibration.reliability_calibrated) },
      { name: `live raw · ECE ${num(live.ece_raw, 3)}`, data: reliabilityPoints(live.reliability_raw) },
      { name: `live calibrated · ECE ${num(live.ece_calibrated, 3)}`, data: reliabilityPoints(live.reliability_calibrated) },
    ]);
    expect(series.every((s) => s.data.length > 0)).toBe(true);

    // Conformal coverage, nominal against realised with n and interval.
    const conformal = training.conformal!;
    const holdoutN = training.holdout.n;
    const versus = (nominal: number, i: Interval) => (i.high < nominal ? 'below' : i.low > nominal ? 'above' : 'consistent');
    const holdoutInterval = wilsonInterval(Math.round(conformal.realised_coverage * holdoutN), holdoutN);
    const coverage = [['holdout', String(holdoutN), pct(conformal.coverage, 1), pct(conformal.realised_coverage, 1), between(holdoutInterval), versus(conformal.coverage, holdoutInterval)]];
    const liveCoverage = report.live.coverage;
    if (liveCoverage) {
      coverage.push(['live', String(liveCoverage.n), pct(liveCoverage.nominal, 1), pct(liveCoverage.realised, 1), between(liveCoverage.interval), versus(liveCoverage.nominal, liveCoverage.interval)]);
    }
    const coverageRows = await page.locator('#skill-coverage tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as unknown as { innerText: string }).innerText)));
    expect(coverageRows).toEqual(coverage);

    // The card alone, cut from the full page (an element screenshot would have the sticky header over its top).
    await page.evaluate(() => (globalThis as unknown as PageGlobals).scrollTo(0, 0));
    const box = (await page.locator('#skill-card').boundingBox())!;
    await page.screenshot({ path: path.join(ARTIFACTS, 'panel-skill.png'), fullPage: true, clip: box });
    expect(pageErrors).toEqual([]);
  });

  step('says of a base-rate signal that no forecaster has shown skill', async () => {
    // No toy forecaster fails over to the base rate here (the gate is off): the page is handed one beside SPX's.
    const { signals } = await api<{ signals: Array<{ signal: Signal }> }>('/signals');
    const spx = signals[0]!.signal;
    const baseRate: Signal = {
      ...spx,
      symbol: 'NDX',
      source: 'base_rate',
      model_version: null,
      grade: 'HOLD',
      action: 'HOLD',
      confidence: 1,
      out_of_distribution: false,
      dissimilarity: null,
      skill: { shown: false, summary: 'no forecaster has shown skill on NDX', measured: null },
    };
    await page.route('**/api/lstm/signals', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { signals: Array<{ signal: Signal }> };
      await route.fulfill({ response, json: { ...body, signals: [...body.signals, { ...body.signals[0], signal: baseRate }] } });
    });
    await page.click('[data-tab="train"]');
    const detail = page.locator('#signals-table tr[data-detail="NDX"]');
    await detail.waitFor();
    expect(await detail.innerText()).toBe(`STALE data ${spx.data_age_days} days (${spx.data_age_sessions} sessions) old: this is the signal of ${LAST_SESSION}, not of today\nno skill no forecaster has shown skill on NDX: HOLD at the base rate`);
    expect((await cellTexts('#signals-table tr[data-symbol="NDX"]')).at(-1)).toBe('base_rate');
    await page.unroute('**/api/lstm/signals');
    expect(pageErrors).toEqual([]);
  });
  step('shows the queue of every worker, and retries a failed job and cancels a queued one from it', async () => {
    // QQQ's lock is held by a job running on another machine, so this process claims none of QQQ's jobs while the test looks.
    const store = plugin.store!;
    const worker = 'gpu-box-2:4242:1764680000000';
    const inAnHour = new Date(Date.now() + 3_600_000);
    const seed = (row: Partial<TrainingJobRow>) => store.repos.trainingJob.save({ symbol: 'QQQ', training_type: 'full', trigger_type: 'weekly', session: null, attempts: 0, ...row });
    const running = await seed({
      status: 'running',
      training_type: 'fast',
      trigger_type: 'manual',
      worker,
      attempts: 2,
      started_at: new Date('2020-04-20T09:30:00Z'),
      lease_expires_at: inAnHour,
      active_key: 'QQQ|fast|manual',
      progress_json: { symbol: 'QQQ', stage: 'cv', step: 'params 2/4, fold 3/5', epoch: 7, epochs: TRAINING_EPOCHS, loss: 0.693147 },
    });
    await store.repos.trainingLock.insert({ symbol: 'QQQ', owner: `${worker} job ${running.id}`, acquired_at: new Date(), expires_at: inAnHour });
    const queued = await seed({ status: 'queued', session: LAST_SESSION, active_key: `QQQ|full|${LAST_SESSION}` });
    const died = 'worker gpu-box-3:77:1764600000000 died during the job (attempt 3 of 3: its lease ran out)';
    const failed = await seed({
      status: 'failed',
      trigger_type: 'monthly',
      session: '2020-03-31',
      attempts: 3,
      started_at: new Date('2020-04-01T08:00:00Z'),
      finished_at: new Date('2020-04-01T08:45:00Z'),
      error: died,
      progress_json: { symbol: 'QQQ', stage: 'refit', step: 'final fit', epoch: 4, epochs: TRAINING_EPOCHS, loss: 0.7 },
    });
    // The same training failed once before: once `failed` is queued again, retrying this one is refused.
    const twin = await seed({ status: 'failed', trigger_type: 'monthly', session: '2020-03-31', attempts: 1, started_at: new Date('2020-03-31T22:00:00Z'), finished_at: new Date('2020-03-31T22:01:00Z'), error: 'out of memory' });
    const succeeded = await store.repos.trainingJob.find({ where: { status: 'succeeded' }, order: { id: 'DESC' } });
    expect(succeeded.map((j) => j.symbol)).toEqual(['SPX', 'SPX']);

    await page.click('[data-tab="queue"]');
    const row = (id: number) => `#queue-tables tr[data-job="${id}"]`;
    await page.locator(row(failed.id)).waitFor();
    const ids = (group: string) => page.locator(`#queue-tables [data-jobs="${group}"] tr[data-job]`).evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-job'))));
    expect([await ids('active'), await ids('waiting'), await ids('failed'), await ids('completed')]).toEqual([[running.id], [queued.id], [failed.id, twin.id], succeeded.map((j) => j.id)]);
    expect(await page.locator('#queue-summary').innerText()).toBe('active 1 · waiting 1 · failed 2 · completed 2 · 2 trainings at once per process');

    expect(await cellTexts(row(running.id))).toEqual([String(running.id), 'QQQ', 'fast', 'manual', '–', 'running', 'gpu-box-2', '2', `cv · params 2/4, fold 3/5 · epoch 7/${TRAINING_EPOCHS} · loss 0.6931`, '2020-04-20 09:30', '–', '–', 'Cancel']);
    expect(await page.locator(`${row(running.id)} [data-worker]`).getAttribute('title')).toBe(worker);
    expect(await cellTexts(row(queued.id))).toEqual([String(queued.id), 'QQQ', 'full', 'weekly', LAST_SESSION, 'queued', '–', '0', '–', '–', '–', '–', 'Cancel']);
    expect(await cellTexts(row(failed.id))).toEqual([String(failed.id), 'QQQ', 'full', 'monthly', '2020-03-31', 'failed', '–', '3', `refit · final fit · epoch 4/${TRAINING_EPOCHS} · loss 0.7000`, '2020-04-01 08:00', '2020-04-01 08:45', died, 'Retry']);
    // A completed job: its last progress and its attempt, no button.
    const done = succeeded[0]!;
    const doneCells = await cellTexts(row(done.id));
    const last = done.progress_json as unknown as TrainingProgress;
    expect(last.stage).toBe('holdout');
    expect([doneCells[0], doneCells[5], doneCells[7], doneCells[8], doneCells[11], doneCells[12]]).toEqual([String(done.id), 'succeeded', '1', `holdout · ${last.step}`, '–', '']);

    await page.click(`${row(failed.id)} button[data-action="retry"]`);
    await expect.poll(() => page.locator('#queue-message').innerText()).toBe(`Job #${failed.id} (QQQ full) is queued again.`);
    expect(await store.repos.trainingJob.findOneByOrFail({ id: failed.id })).toMatchObject({ status: 'queued', attempts: 0, finished_at: null, active_key: 'QQQ|full|2020-03-31' });
    await expect.poll(() => ids('waiting')).toEqual([queued.id, failed.id]);
    // Waiting again: the progress of its last attempt is not shown; its last error still is.
    expect((await cellTexts(row(failed.id))).slice(5, 12)).toEqual(['queued', '–', '0', '–', '–', '–', died]);

    // Refused: the server's reason is shown, and the job stays failed.
    await page.click(`${row(twin.id)} button[data-action="retry"]`);
    await expect.poll(() => page.locator('#queue-message').innerText()).toBe(
      `POST /jobs/${twin.id}/retry: 409 training job ${twin.id} is not retried: the same training is already queued as job ${failed.id}`,
    );
    expect(await page.getAttribute('#queue-message', 'class')).toBe('error');
    expect((await store.repos.trainingJob.findOneByOrFail({ id: twin.id })).status).toBe('failed');

    await page.click(`${row(queued.id)} button[data-action="cancel"]`);
    await expect.poll(() => page.locator('#queue-message').innerText()).toBe(`Job #${queued.id} (QQQ full) is cancelled.`);
    expect(await store.repos.trainingJob.findOneByOrFail({ id: queued.id })).toMatchObject({ status: 'failed', error: 'cancelled while queued', active_key: null });
    await expect.poll(() => ids('failed')).toEqual([queued.id, twin.id]);
    expect((await cellTexts(row(queued.id))).slice(5)).toEqual(['failed', '–', '0', '–', '–', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/), 'cancelled while queued', 'Retry']);
    await screenshot('queue');

    // Nothing of QQQ left for another step: its jobs ended, then its lock released.
    await store.repos.trainingJob.update({ symbol: 'QQQ', status: In(['queued', 'running']) }, { status: 'failed', worker: null, lease_expires_at: null, active_key: null });
    await store.repos.trainingLock.delete({ symbol: 'QQQ' });
    expect(pageErrors).toEqual([]);
  });
});
