/**
 * The /lstm admin panel: four tabs over the plugin's HTTP API. Plain DOM and ECharts (loaded before
 * this module as `window.echarts`); no framework, no build step.
 */
const API = '/api/lstm';
const TOKEN_KEY = 'lstm-signals:admin-token';
const POLL_MS = 1000;
const QUEUE_REFRESH_MS = 2000;
const BLUE = '#2563eb';
const RED = '#dc2626';
const GREY = '#94a3b8';
const GREEN = '#15803d';
const AMBER = '#d97706';

/** Every chart's ECharts instance by name, so a script (or a test) can read what is drawn. */
const charts = (window.lstmCharts = {});
/** The latest signal per symbol, as the signals table shows it. */
const signals = new Map();

const $ = (selector, root = document) => root.querySelector(selector);
const tokenInput = $('#admin-token');

// ---- DOM and formatting -------------------------------------------------------------------------

/** `el('td', { class: 'num' }, '1.0')`: attributes, `on*` listeners, and text or node children (arrays of them at any depth). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.flat(Infinity).filter((c) => c !== undefined && c !== null));
  return node;
}

const DASH = '–';
const pct = (x, digits = 2) => (x === null || x === undefined ? DASH : `${(x * 100).toFixed(digits)}%`);
const num = (x, digits = 4) => (x === null || x === undefined ? DASH : Number(x).toFixed(digits));
const when = (iso) => (iso ? String(iso).replace('T', ' ').slice(0, 16) : DASH);
/** Texts kept whole (a date must not break at its hyphens) that a `breaks` column may put on separate lines. */
const parts = (...texts) => texts.flatMap((text, i) => [i > 0 ? ' ' : null, el('span', { class: 'nowrap' }, text)]);
const stamp = (iso) => (iso ? parts(...when(iso).split(' ')) : DASH);
const range = (from, to) => (from ? parts(`${from} →`, to ?? DASH) : DASH);
const badge = (text, kind = String(text)) => el('span', { class: `status ${kind}` }, String(text));
const yesNo = (flag) => badge(flag ? 'yes' : 'no');
/** A signed number with a real minus sign (no sign when it rounds to zero); a dash for null. */
function signed(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return DASH;
  const magnitude = Math.abs(x).toFixed(digits);
  return Number(magnitude) === 0 ? magnitude : `${x > 0 ? '+' : '−'}${magnitude}`;
}
/** A 95% interval of a rate: `[48.1%, 85.5%]`. */
const between = (interval, digits = 1) => (interval ? `[${pct(interval.low, digits)}, ${pct(interval.high, digits)}]` : DASH);
const pValue = (p) => (p === null || p === undefined ? DASH : p < 0.001 ? '< 0.001' : p.toFixed(3));
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const direction = (probUp) => (probUp > 0.5 ? el('span', { class: 'up' }, '▲ up') : el('span', { class: 'down' }, '▼ down'));

/**
 * A table: `columns` are `{ label, value(row), num?, wrap?, breaks? }` (`wrap`: long text; `breaks`: a
 * date range or time that may take two lines in a wide table); `rowAttributes(row)` may mark a row.
 * An empty list shows `empty` instead.
 */
function table(columns, rows, { rowAttributes, empty = 'Nothing yet.' } = {}) {
  if (rows.length === 0) return el('p', { class: 'caption' }, empty);
  const cellClass = (c) => [c.num && 'num', c.wrap && 'wrap', c.breaks && 'breaks'].filter(Boolean).join(' ') || undefined;
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', { class: cellClass(c) }, c.label)))),
    el('tbody', {}, rows.map((row) => el('tr', rowAttributes?.(row) ?? {}, columns.map((c) => el('td', { class: cellClass(c) }, c.value(row)))))),
  );
}

/** A definition list of `[label, value]` pairs. */
const facts = (pairs) => el('dl', { class: 'kv' }, pairs.flatMap(([label, value]) => [el('dt', {}, label), el('dd', {}, value)]));

/** Replaces `target`'s content (null and undefined parts left out) and unhides it. */
function show(target, ...content) {
  target.replaceChildren(...content.filter((c) => c !== undefined && c !== null));
  target.hidden = false;
}

/** Form fields as strings and checkboxes as booleans; empty strings become undefined. */
function formValues(form) {
  const values = {};
  for (const input of form.querySelectorAll('input[name]')) {
    values[input.name] = input.type === 'checkbox' ? input.checked : input.value.trim() || undefined;
  }
  return values;
}

// ---- API ---------------------------------------------------------------------------------------

async function api(method, path, { query = {}, body } = {}) {
  const url = new URL(API + path, location.origin);
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
  const headers = { accept: 'application/json' };
  const token = tokenInput.value.trim();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  if (!response.ok) {
    const detail = data?.error ?? data?.message ?? response.statusText;
    const hint = response.status === 401 || response.status === 403 ? ' (set the admin token at the top right)' : '';
    throw new Error(`${method} ${path}: ${response.status} ${detail}${hint}`);
  }
  return data;
}

/**
 * Runs a card's action: its buttons are disabled while it runs (long operations cannot be started
 * twice) and a failure is shown in the card's error line instead of being lost in the console.
 */
async function act(card, task) {
  const error = $('.error', card);
  error.hidden = true;
  const buttons = [...card.querySelectorAll('button')];
  for (const b of buttons) b.disabled = true;
  card.setAttribute('aria-busy', 'true');
  try {
    await task();
  } catch (e) {
    error.textContent = e instanceof Error ? e.message : String(e);
    error.hidden = false;
  } finally {
    for (const b of buttons) b.disabled = false;
    card.removeAttribute('aria-busy');
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- charts ------------------------------------------------------------------------------------

/** Draws `option` into the chart named `name` (its `data-chart` element), replacing what was there. */
function draw(name, option) {
  const host = $(`[data-chart="${name}"]`);
  host.hidden = false;
  charts[name] ??= window.echarts.init(host);
  charts[name].setOption({ animation: false, grid: { left: 64, right: 24, top: 48, bottom: 56 }, tooltip: { trigger: 'axis' }, ...option }, true);
  charts[name].resize();
}

const line = (name, data, color, extra = {}) => ({ name, type: 'line', data, showSymbol: false, lineStyle: { width: 1.5 }, itemStyle: { color }, ...extra });
const dateAxis = (dates) => ({ type: 'category', data: dates, boundaryGap: false });
const zoom = [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }];
const percentAxis = (extra = {}) => ({ type: 'value', axisLabel: { formatter: (v) => `${(v * 100).toFixed(0)}%` }, ...extra });

/** A vertical line at `date` (when it is on the axis): where in-sample ends. */
const trainedThroughLine = (date) => (date ? { silent: true, symbol: 'none', lineStyle: { color: GREY, type: 'dashed' }, label: { formatter: 'trained through' }, data: [{ xAxis: date }] } : undefined);

function drawFit(plot) {
  // Sample k is dated dates[k] on the first two charts and dates_price[k] on the price chart.
  const boundary = plot.dates.indexOf(plot.trained_through);
  const inSampleEnd = (axis) => trainedThroughLine(boundary >= 0 ? axis[boundary] : null);
  const title = (text) => ({ text, left: 8, top: 4, textStyle: { fontSize: 13 } });
  const legend = { top: 4, right: 16 };
  draw('fit-direction', {
    title: title('Direction (on the forecast session)'),
    legend,
    xAxis: dateAxis(plot.dates),
    yAxis: { type: 'value', min: 0, max: 1, name: 'up = 1' },
    dataZoom: zoom,
    series: [
      line('Actual', plot.actual_direction, BLUE, { step: 'end', markLine: inSampleEnd(plot.dates) }),
      line('Predicted', plot.predicted_direction, RED, { step: 'end' }),
      line('P(up)', plot.prob_up, GREY, { lineStyle: { width: 1, type: 'dotted' } }),
    ],
  });
  draw('fit-return', {
    title: title('5-day return (on the forecast session)'),
    legend,
    xAxis: dateAxis(plot.dates),
    yAxis: percentAxis(),
    tooltip: { trigger: 'axis', valueFormatter: (v) => pct(v) },
    dataZoom: zoom,
    series: [
      line('Actual', plot.actual_return, BLUE, { markLine: inSampleEnd(plot.dates) }),
      line('Predicted', plot.predicted_return, RED),
    ],
  });
  draw('fit-price', {
    title: title('Price (on the session the forecast is realised)'),
    legend,
    xAxis: dateAxis(plot.dates_price),
    yAxis: { type: 'value', scale: true },
    tooltip: { trigger: 'axis', valueFormatter: (v) => num(v, 2) },
    dataZoom: zoom,
    series: [
      line('Actual', plot.actual_price, BLUE, { markLine: inSampleEnd(plot.dates_price) }),
      line('Predicted', plot.predicted_price, RED),
    ],
  });
}

// ---- tabs --------------------------------------------------------------------------------------

/** What each tab loads when it is shown, and into which card. */
const TABS = {
  train: [['#signals-card', () => loadSignals()]],
  runs: [
    ['#runs-card', () => loadRuns()],
    ['#versions-card', () => loadVersions()],
  ],
  monitoring: [
    ['#status-card', () => loadStatus()],
    ['#skill-card', () => loadSkill($('#skill-form'), { auto: true })],
    ['#calibration-card', () => loadCalibration()],
  ],
  queue: [['#queue-card', () => loadQueue()]],
};

function showTab(name) {
  for (const button of document.querySelectorAll('[data-tab]')) button.setAttribute('aria-selected', String(button.dataset.tab === name));
  for (const panel of document.querySelectorAll('[data-panel]')) panel.hidden = panel.dataset.panel !== name;
  history.replaceState(null, '', `#${name}`);
  // Charts drawn while their tab was hidden have no size yet.
  for (const chart of Object.values(charts)) chart.resize();
  for (const [card, load] of TABS[name]) void act($(card), load);
}

// ---- Train & predict ---------------------------------------------------------------------------

const HOLDOUT_METRICS = ['n', 'accuracy', 'f1', 'mse', 'mae', 'rmse', 'direction_accuracy'];

const FINISHED = new Set(['succeeded', 'failed']);

/** A job's reported progress (trainer's TrainingProgress): "cv · params 1/2, fold 3/3 · epoch 12/30 · loss 0.6931". */
const progressText = (p) => [p.stage, p.step, p.epochs && `epoch ${p.epoch}/${p.epochs}`, p.loss != null && `loss ${num(p.loss)}`].filter(Boolean).join(' · ');

function renderJob(job, progress) {
  const target = $('#train-job');
  const done = FINISHED.has(job.status);
  const stage = progress ? progressText(progress) : { queued: 'waiting for a worker…', running: 'starting…' }[job.status] ?? '';
  const share = progress?.epochs ? progress.epoch / progress.epochs : 0;
  show(
    target,
    el('div', { class: 'head' }, el('strong', {}, `Job #${job.id} · ${job.symbol} · ${job.training_type}`), badge(job.status)),
    el('div', { class: 'progress-text', 'data-progress': '' }, stage),
    done ? null : el('div', { class: 'bar' }, el('span', { style: `width: ${Math.round(share * 100)}%` })),
    job.error ? el('p', { class: 'error' }, job.error) : null,
  );
}

function renderTrainResult(run) {
  const holdout = run.holdout_metrics_json ?? {};
  show(
    $('#train-result'),
    el('h3', {}, 'Result'),
    facts([
      ['Version', run.version_id ?? DASH],
      ['Deployed', yesNo(run.validation_deployed)],
      ['Decision', run.validation_reason ?? DASH],
      ['Data', `${run.data_start} → ${run.data_end}`],
      ['Duration', `${num(run.duration_seconds, 1)} s`],
    ]),
    el('h3', {}, 'Holdout metrics'),
    table(
      HOLDOUT_METRICS.map((metric) => ({ label: metric, num: true, value: (row) => num(row[metric], metric === 'n' ? 0 : 4) })),
      [holdout],
    ),
  );
}

async function train(form) {
  const values = formValues(form);
  $('#train-result').hidden = true;
  let { job } = await api('POST', '/train', { body: values });
  renderJob(job, null);
  while (!FINISHED.has(job.status)) {
    await sleep(POLL_MS);
    const state = await api('GET', `/jobs/${job.id}`);
    job = state.job;
    renderJob(job, state.progress);
  }
  if (job.status === 'failed') throw new Error(`training failed: ${job.error}`);
  // The job names its run; the run holds the holdout metrics and the deploy decision.
  const { runs } = await api('GET', '/training-runs', { query: { symbol: job.symbol, limit: 20 } });
  renderTrainResult(runs.find((r) => r.id === job.run_id));
}

/** "2420 days (1727 sessions) old". */
const dataAge = (s) => `${plural(s.data_age_days, 'day')} (${plural(s.data_age_sessions, 'session')}) old`;
const staleFlag = (s) => (s.stale ? el('div', { class: 'flag', 'data-flag': 'stale' }, badge('STALE', 'stale'), ` ${s.data_age_days} d old`) : null);
const oodFlag = (s) => (s.out_of_distribution ? el('div', { class: 'flag', 'data-flag': 'ood' }, badge('OUT OF DISTRIBUTION', 'ood')) : null);
const LEVEL_RULES = {
  conformal: (s) => `conformal: the close ${s.horizon ?? 5} sessions ahead lies between stop and target with probability ≥ ${pct(s.levels_coverage, 0)}`,
  atr: () => 'atr: ATR multiples from the price (no stated probability)',
  fixed: () => "fixed: the original's percentage stop and expected-return target (no stated probability)",
};
const levelsRule = (s) => (s.levels_rule === 'conformal' ? `conformal ${pct(s.levels_coverage, 0)}` : s.levels_rule ?? DASH);

/** What the signal says of its forecaster's skill: a base-rate signal says no forecaster has shown any. */
function skillLine(s) {
  if (s.source === 'base_rate') {
    const said = s.skill?.summary && !s.skill.summary.startsWith('no forecaster has shown skill') ? ` (${s.skill.summary})` : '';
    return [badge('no skill', 'no'), ` no forecaster has shown skill on ${s.symbol}: HOLD at the base rate${said}`];
  }
  if (!s.skill) return DASH;
  const verdict = s.skill.shown === null ? badge('never measured', 'unknown') : s.skill.shown ? badge('skill shown', 'yes') : badge('no skill shown', 'no');
  return [verdict, ` ${s.source}: ${s.skill.summary}`];
}

const SIGNAL_COLUMNS = [
  { label: 'Symbol', value: (s) => el('strong', {}, s.symbol) },
  { label: 'As of', value: (s) => s.as_of },
  { label: 'Flags', value: (s) => (s.stale || s.out_of_distribution ? [staleFlag(s), oodFlag(s)] : DASH) },
  { label: 'Grade', value: (s) => badge(s.grade, s.grade.toLowerCase()) },
  { label: 'Direction', value: (s) => direction(s.prob_up) },
  { label: 'Exp. 5-day return', num: true, value: (s) => el('span', { class: s.expected_return_5d >= 0 ? 'up' : 'down' }, pct(s.expected_return_5d)) },
  { label: 'P(up)', num: true, value: (s) => el('span', { title: 'calibrated' }, pct(s.prob_up, 1)) },
  { label: 'P(up) raw', num: true, value: (s) => el('span', { class: 'muted', title: "the forecaster's own, before calibration" }, pct(s.prob_up_raw, 1)) },
  { label: 'P(down)', num: true, value: (s) => pct(1 - s.prob_up, 1) },
  { label: 'Confidence', value: (s) => el('span', { title: `${s.confidence} of 5` }, `${'●'.repeat(s.confidence)}${'○'.repeat(5 - s.confidence)}`) },
  { label: 'Stop / target', num: true, value: (s) => [`${num(s.stop_loss, 2)} / ${num(s.take_profit, 2)}`, el('div', { class: 'muted' }, levelsRule(s))] },
  { label: 'Source', value: (s) => el('span', { title: s.model_version ?? '' }, s.source) },
];

/** One row per signal, and under it a row with what its forecaster has shown and why the signal is flagged. */
function renderSignals() {
  const rows = [...signals.values()].sort((a, b) => a.symbol.localeCompare(b.symbol));
  const rendered = table(SIGNAL_COLUMNS, rows, { rowAttributes: (s) => ({ 'data-symbol': s.symbol, class: 'has-detail' }), empty: 'No predictions yet: predict a symbol above.' });
  for (const [i, row] of [...rendered.querySelectorAll('tr[data-symbol]')].entries()) {
    const s = rows[i];
    const notes = [
      s.stale ? el('div', {}, badge('STALE', 'stale'), ` data ${dataAge(s)}: this is the signal of ${s.as_of}, not of today`) : null,
      s.out_of_distribution ? el('div', {}, badge('OUT OF DISTRIBUTION', 'ood'), ` dissimilarity ${num(s.dissimilarity, 2)} from the model's training rows: confidence capped at 1`) : null,
      el('div', { 'data-skill': '' }, skillLine(s)),
    ];
    row.after(el('tr', { class: 'detail', 'data-detail': s.symbol }, el('td', { colspan: SIGNAL_COLUMNS.length }, notes)));
  }
  show($('#signals-table'), rendered);
}

async function loadSignals() {
  const latest = (await api('GET', '/signals')).signals.map((row) => row.signal);
  signals.clear();
  for (const signal of latest) signals.set(signal.symbol, signal);
  renderSignals();
  setSymbols(latest.map((s) => s.symbol));
}

async function predictOne(symbol, options) {
  const result = await api('GET', '/predict', { query: { symbol, ...options } });
  signals.set(result.signal.symbol, result.signal);
  renderSignals();
  return result;
}

function predictOptions() {
  const { use_fallback, trigger_train_async } = formValues($('#predict-form'));
  return { use_fallback, trigger_train_async };
}

const triggerText = (check) => (check.job_id === null ? check.reason : `job #${check.job_id} queued (${check.trigger}, ${check.mode}): ${check.reason}`);

async function predict(symbol) {
  const result = await predictOne(symbol, predictOptions());
  const s = result.signal;
  show(
    $('#predict-result'),
    facts([
      ['Signal', `${s.symbol} ${s.as_of}: ${s.action} (${s.grade}), confidence ${s.confidence}`],
      ['Data', s.stale ? [badge('STALE', 'stale'), ` ${dataAge(s)}: this is the signal of ${s.as_of}, not of today`] : dataAge(s)],
      ['P(up)', `${pct(s.prob_up, 1)} calibrated · ${pct(s.prob_up_raw, 1)} raw`],
      ['Expected 5-day return', pct(s.expected_return_5d)],
      ['Price / stop / target', `${num(s.current_price, 2)} / ${num(s.stop_loss, 2)} / ${num(s.take_profit, 2)}`],
      ['Levels', LEVEL_RULES[s.levels_rule]?.(s) ?? DASH],
      [
        'Out of distribution',
        s.dissimilarity === null || s.dissimilarity === undefined
          ? 'not measured'
          : s.out_of_distribution
            ? [badge('OUT OF DISTRIBUTION', 'ood'), ` dissimilarity ${num(s.dissimilarity, 2)}: the model has not seen such a market; confidence capped at 1`]
            : `no (dissimilarity ${num(s.dissimilarity, 2)})`,
      ],
      ['Source', `${s.source}${s.model_version ? ` (${s.model_version})` : ''}`],
      ['Skill', skillLine(s)],
      ...s.fallback_reasons.map((r) => [`${r.source} skipped`, r.reason]),
      ...(result.trigger_check ? [['Training trigger', triggerText(result.trigger_check)]] : []),
    ]),
  );
}

async function predictAll() {
  const { symbols } = await api('GET', '/monitoring');
  const names = symbols.map((s) => s.symbol);
  const progress = $('#predict-progress');
  const failures = [];
  for (const [i, symbol] of names.entries()) {
    show(progress, `Predicting ${i + 1} of ${names.length}: ${symbol}…`);
    try {
      await predictOne(symbol, predictOptions());
    } catch (e) {
      failures.push(`${symbol}: ${e.message}`);
    }
  }
  show(progress, `Predicted ${names.length - failures.length} of ${names.length} symbols.`);
  if (failures.length > 0) throw new Error(failures.join('\n'));
}

async function fit(form, years) {
  const { symbol } = formValues(form);
  for (const button of form.querySelectorAll('[name="years"]')) button.classList.toggle('active', button.value === years);
  const plot = await api('GET', '/plot-data', { query: { symbol, years } });
  $('#fit-charts').hidden = false;
  drawFit(plot);
  show(
    $('#fit-caption'),
    `${plot.symbol}, ${plot.years} year${plot.years > 1 ? 's' : ''}: ${plot.dates.length} forecasts ${plot.dates[0] ?? ''} → ${plot.dates.at(-1) ?? ''}, model ${plot.version_id}, trained through ${plot.trained_through}.`,
  );
}

/** Fills the symbol suggestions of every symbol field. */
function setSymbols(symbols) {
  const list = $('#symbol-list');
  const known = new Set([...list.options].map((o) => o.value));
  for (const symbol of symbols) if (!known.has(symbol)) list.append(el('option', { value: symbol }));
}

// ---- Runs & versions ---------------------------------------------------------------------------

const RUN_COLUMNS = [
  { label: '#', num: true, value: (r) => String(r.id) },
  { label: 'Symbol', value: (r) => r.symbol },
  { label: 'When', breaks: true, value: (r) => stamp(r.created_at) },
  { label: 'Mode', value: (r) => r.training_type },
  { label: 'Trigger', value: (r) => r.trigger_type },
  { label: 'Data', breaks: true, value: (r) => range(r.data_start, r.data_end) },
  { label: 'Deployed', value: (r) => yesNo(r.validation_deployed) },
  { label: 'Reason', wrap: true, value: (r) => r.validation_reason ?? DASH },
  { label: 'Accuracy', num: true, value: (r) => num(r.holdout_metrics_json?.accuracy, 3) },
  { label: 'F1', num: true, value: (r) => num(r.holdout_metrics_json?.f1, 3) },
  { label: 'MSE', num: true, value: (r) => num(r.holdout_metrics_json?.mse, 5) },
  { label: 'Seconds', num: true, value: (r) => num(r.duration_seconds, 1) },
  // Version ids are long: this one may break at its hyphens rather than widen the table.
  { label: 'Version', breaks: true, value: (r) => r.version_id ?? DASH },
];

async function loadRuns() {
  const { symbol, limit } = formValues($('#runs-form'));
  const { runs } = await api('GET', '/training-runs', { query: { symbol, limit } });
  show($('#runs-table'), table(RUN_COLUMNS, runs, { empty: 'No training runs.' }));
}

async function rollback(version) {
  const { previous_version_id } = await api('POST', '/rollback', { body: { symbol: version.symbol, version_id: version.version_id } });
  await loadVersions();
  show($('#versions-message'), `${version.symbol}: current model is now ${version.version_id} (was ${previous_version_id ?? 'none'}).`);
}

async function loadVersions() {
  $('#versions-message').hidden = true;
  const versions = (await api('GET', '/versions')).symbols.flatMap((s) => s.versions);
  const columns = [
    { label: 'Symbol', value: (v) => v.symbol },
    { label: 'Version', value: (v) => v.version_id },
    { label: 'Mode', value: (v) => v.training_type },
    { label: 'Trained', value: (v) => when(v.training_time) },
    { label: 'Data', value: (v) => `${v.data_start} → ${v.data_end}` },
    { label: 'Size', num: true, value: (v) => `${(v.blob_bytes / 1024).toFixed(0)} KiB` },
    { label: 'Checksum', value: (v) => el('code', { title: v.checksum }, v.checksum.slice(0, 12)) },
    { label: 'Status', value: (v) => v.status },
    {
      label: '',
      // A candidate's holdout never judged it (its training did not finish): the registry refuses to make it current.
      value: (v) => (v.current ? badge('● current', 'yes') : v.status === 'candidate' ? DASH : el('button', { type: 'button', 'data-rollback': v.version_id, onclick: () => act($('#versions-card'), () => rollback(v)) }, 'Roll back to this')),
    },
  ];
  show(
    $('#versions-table'),
    table(columns, versions, { rowAttributes: (v) => ({ class: v.current ? 'current' : undefined, 'data-version': v.version_id }), empty: 'No model versions.' }),
  );
}

async function updateAccuracy(form) {
  const { symbol, as_of_date } = formValues(form);
  const result = await api('POST', '/update-accuracy', { body: { symbol, as_of_date } });
  show(
    $('#accuracy-result'),
    facts([
      ['Records written', String(result.written.length)],
      ['Still pending', String(result.pending)],
      ['Direction right', result.written.length ? pct(result.written.filter((r) => r.direction_correct).length / result.written.length, 1) : DASH],
    ]),
  );
}

const TRIGGER_COLUMNS = [
  { label: 'Symbol', value: (t) => t.symbol },
  { label: 'Session', value: (t) => t.session },
  { label: 'Trigger', value: (t) => t.trigger ?? DASH },
  { label: 'Mode', value: (t) => t.mode ?? DASH },
  { label: 'Fired', value: (t) => t.candidates.join(', ') || DASH },
  { label: 'Reason', wrap: true, value: (t) => t.reason },
  { label: 'Job', value: (t) => (t.job_id === null ? DASH : `#${t.job_id}`) },
];

async function checkTriggers(form) {
  const { symbol, run } = formValues(form);
  const { checks } = await api('POST', '/check-triggers', { body: { symbol, run } });
  show($('#triggers-result'), table(TRIGGER_COLUMNS, checks));
}

// ---- Monitoring & alerts -----------------------------------------------------------------------

const STATUS_COLUMNS = [
  { label: 'Symbol', value: (s) => el('strong', {}, s.symbol) },
  { label: 'Last bar', value: (s) => s.last_bar },
  { label: 'Current version', value: (s) => s.current_version ?? DASH },
  { label: 'Trained', breaks: true, value: (s) => stamp(s.last_training_time) },
  { label: 'Data', breaks: true, value: (s) => range(s.data_start, s.data_end) },
  { label: 'Deployed', value: (s) => (s.validation ? yesNo(s.validation.deployed) : DASH) },
  { label: 'Preds (7 d)', num: true, value: (s) => String(s.predictions_last_7_days) },
  { label: 'Records', num: true, value: (s) => String(s.accuracy_records) },
  { label: 'MAE', num: true, value: (s) => num(s.mae) },
  { label: 'RMSE', num: true, value: (s) => num(s.rmse) },
  { label: 'Hit rate [95%] (n)', num: true, value: (s) => (s.hit_rate ? `${pct(s.hit_rate.hit_rate, 1)} ${between(s.hit_rate.hit_rate_interval)} (${s.hit_rate.n})` : DASH) },
  { label: 'Best baseline', num: true, value: (s) => (s.hit_rate ? `${s.hit_rate.best_baseline.name} ${pct(s.hit_rate.best_baseline.hit_rate, 1)} ${between(s.hit_rate.best_baseline.hit_rate_interval)}` : DASH) },
  { label: 'Decay', value: (s) => (s.decay.triggered ? badge('triggered', 'warning') : badge('ok', 'yes')) },
  { label: 'Failures', num: true, value: (s) => String(s.training_failures) },
];

/** Status and training failures: both from GET /monitoring. */
async function loadStatus() {
  const status = await api('GET', '/monitoring');
  const queue = status.queue;
  $('#status-summary').textContent = [
    `Backend: ${status.backend ? `${status.backend.name} (${status.backend.reason})` : 'not initialised'}`,
    queue && `queue: ${queue.running.length} running, ${queue.queued.length} queued`,
    `as of ${when(status.generated_at)} UTC`,
  ]
    .filter(Boolean)
    .join(' · ');
  show($('#status-table'), table(STATUS_COLUMNS, status.symbols, { empty: 'No symbols stored.' }));
  renderFailures(status);
  setSymbols(status.symbols.map((s) => s.symbol));
}

async function checkDecay(form) {
  const { symbol, threshold, n_recent, log } = formValues(form);
  const d = await api('GET', '/performance-decay', { query: { symbol, threshold, n_recent, log } });
  show(
    $('#decay-result'),
    facts([
      ['Triggered', d.triggered ? badge('yes', 'warning') : badge('no', 'yes')],
      ['Recent mean error', `${num(d.recent_avg_error)} (${d.n_recent_samples} records)`],
      ['Historical mean error', `${num(d.historical_avg_error)} (${d.n_historical_samples} records)`],
      ['Threshold', num(d.threshold)],
      ['Reason', d.reason],
    ]),
  );
}

const ALERT_COLUMNS = [
  { label: 'Type', value: (a) => a.alert_type },
  { label: 'Symbol', value: (a) => a.symbol ?? DASH },
  { label: 'Severity', value: (a) => badge(a.severity) },
  { label: 'Message', wrap: true, value: (a) => a.message },
];

async function alerts(fire) {
  const { active, fired } = await api('POST', '/alerts', { body: { fire } });
  show(
    $('#alerts-result'),
    el('h3', {}, `Active (${active.length})`),
    table(ALERT_COLUMNS, active, { empty: 'No active alerts.' }),
    fire ? el('h3', {}, `Fired (${fired.length})`) : null,
    fire
      ? table(
          [...ALERT_COLUMNS, { label: 'Delivery', value: (a) => badge(a.delivery_status) }, { label: 'Attempts', num: true, value: (a) => String(a.delivery_attempts) }],
          fired,
          { empty: 'Nothing fired.' },
        )
      : null,
  );
}

const LEVELS = ['1', '2', '3', '4', '5'];

/**
 * Error bars of a rate's interval on a category axis: data items are [category index, low, high, n]; nothing
 * is drawn where n is 0 (no interval to speak of).
 */
function intervalBars(name, data, color) {
  return {
    name,
    type: 'custom',
    data,
    encode: { x: 0, y: [1, 2] },
    itemStyle: { color },
    z: 3,
    renderItem: (params, api) => {
      if (!(api.value(3) > 0)) return null;
      const [x, low] = api.coord([api.value(0), api.value(1)]);
      const [, high] = api.coord([api.value(0), api.value(2)]);
      const half = api.size([1, 0])[0] * 0.1;
      const style = { stroke: color, lineWidth: 1.5 };
      return {
        type: 'group',
        children: [
          { type: 'line', shape: { x1: x, y1: low, x2: x, y2: high }, style },
          { type: 'line', shape: { x1: x - half, y1: low, x2: x + half, y2: low }, style },
          { type: 'line', shape: { x1: x - half, y1: high, x2: x + half, y2: high }, style },
        ],
      };
    },
  };
}

async function loadCalibration() {
  const report = await api('GET', '/calibration');
  const buckets = LEVELS.map((level) => report.overall.by_confidence[level]);
  draw('calibration', {
    title: { text: `Hit rate by confidence (${report.prediction_set}; dashed: a coin flip)`, left: 8, top: 4, textStyle: { fontSize: 13 } },
    legend: { top: 26, left: 8, itemHeight: 10, textStyle: { fontSize: 12 } },
    grid: { left: 56, right: 16, top: 64, bottom: 52 },
    xAxis: { type: 'category', data: LEVELS.map((l) => `confidence ${l}`), axisLabel: { interval: 0, lineHeight: 16, formatter: (value, i) => `${value}\nn = ${buckets[i].n}` } },
    yAxis: percentAxis({ min: 0, max: 1 }),
    tooltip: {
      trigger: 'axis',
      formatter: (params) => {
        const i = params[0].dataIndex;
        const b = buckets[i];
        return b.n === 0
          ? `confidence ${LEVELS[i]}: no scored predictions`
          : `confidence ${LEVELS[i]}: hit rate ${pct(b.hit_rate, 1)} ${between(b.hit_rate_interval)} of ${b.n}<br>always up on the same sessions: ${pct(b.up_rate, 1)}`;
      },
    },
    series: [
      {
        name: 'Hit rate',
        type: 'bar',
        data: buckets.map((b) => b.hit_rate),
        itemStyle: { color: BLUE },
        barMaxWidth: 56,
        label: { show: true, position: 'insideBottom', color: '#fff', formatter: (p) => (p.value === null ? '' : pct(p.value, 0)) },
        markLine: { silent: true, symbol: 'none', lineStyle: { color: GREY, type: 'dashed' }, label: { show: false }, data: [{ yAxis: 0.5 }] },
      },
      intervalBars('95% interval', buckets.map((b, i) => [i, b.hit_rate_interval.low, b.hit_rate_interval.high, b.n]), '#0f172a'),
      {
        name: 'Always up (same sessions)',
        type: 'line',
        data: buckets.map((b) => b.up_rate),
        itemStyle: { color: AMBER },
        lineStyle: { type: 'dashed', width: 1.5 },
        symbol: 'diamond',
        symbolSize: 10,
        z: 4,
      },
    ],
  });
  show(
    $('#calibration-table'),
    table(
      [
        { label: 'Confidence', value: (row) => row.level },
        { label: 'n', num: true, value: (row) => String(row.n) },
        { label: 'Hits', num: true, value: (row) => String(row.hits) },
        { label: 'Hit rate', num: true, value: (row) => pct(row.hit_rate, 1) },
        { label: '95% interval', num: true, value: (row) => (row.n ? between(row.hit_rate_interval) : DASH) },
        { label: 'Always up', num: true, value: (row) => pct(row.up_rate, 1) },
        { label: 'Mean 5-d return', num: true, value: (row) => pct(row.mean_actual_return) },
      ],
      buckets.map((b, i) => ({ level: LEVELS[i], ...b })),
    ),
  );
}

// ---- Does it beat the baselines? ---------------------------------------------------------------

/** Display names of the subjects; baselines keep theirs (the note under the card says what each does). */
const SUBJECTS = { lstm: 'LSTM', served: 'served' };
const subjectName = (name) => SUBJECTS[name] ?? name;

/** The subject first, then every baseline with its paired comparison against the subject. */
function skillRows(t) {
  return [
    { role: 'subject', skill: t.subject, pair: null },
    ...t.baselines.map((b) => ({ role: b.name === t.best_baseline.name ? 'best' : 'baseline', skill: b, pair: t.paired.find((p) => p.baseline === b.name) ?? null })),
  ];
}

function skillTableView(t) {
  const subject = subjectName(t.subject.name);
  const columns = [
    {
      label: 'Forecaster',
      value: (r) => [
        r.role === 'subject' ? el('strong', {}, subject) : r.skill.name,
        r.role === 'best' ? [' ', badge('best baseline', 'best')] : null,
        r.skill.answered < r.skill.n ? el('span', { class: 'muted' }, ` answered ${r.skill.answered}`) : null,
      ],
    },
    { label: 'n', num: true, value: (r) => String(r.skill.n) },
    { label: 'Hit rate', num: true, value: (r) => pct(r.skill.hit_rate, 1) },
    { label: '95% interval', num: true, value: (r) => between(r.skill.hit_rate_interval) },
    { label: 'Brier skill', num: true, value: (r) => signed(r.skill.brier_skill) },
    { label: 'IC', num: true, value: (r) => signed(r.skill.ic) },
    { label: `McNemar p vs ${subject}`, num: true, value: (r) => (r.pair ? `${pValue(r.pair.mcnemar.p_value)} (${r.pair.mcnemar.b} : ${r.pair.mcnemar.c})` : DASH) },
    {
      label: `Brier Δ vs ${subject}`,
      num: true,
      value: (r) => (r.pair ? `${signed(r.pair.brier_difference.mean, 4)} [${signed(r.pair.brier_difference.interval.low, 4)}, ${signed(r.pair.brier_difference.interval.high, 4)}]` : DASH),
    },
    { label: 'Brier Δ p', num: true, value: (r) => (r.pair ? pValue(r.pair.brier_difference.p_value) : DASH) },
  ];
  return table(columns, skillRows(t), { rowAttributes: (r) => ({ class: r.role, 'data-forecaster': r.skill.name }) });
}

/** Is the subject's hit rate above or below the best baseline's, on the same sessions, and could that be chance? */
function versusBest(t, alpha) {
  const s = t.subject;
  const best = t.best_baseline;
  const p = t.paired.find((pair) => pair.baseline === best.name)?.mcnemar.p_value ?? null;
  const relation = s.hit_rate > best.hit_rate ? 'above' : s.hit_rate < best.hit_rate ? 'below' : 'level with';
  const kind = { above: 'yes', below: 'no', 'level with': 'unknown' }[relation];
  return [
    badge(relation === 'level with' ? 'level' : relation, kind),
    ` ${subjectName(s.name)} hit rate ${pct(s.hit_rate, 1)} ${between(s.hit_rate_interval)} of ${s.n} is ${relation} the best baseline, ${best.name} ${pct(best.hit_rate, 1)} on the same sessions`,
    p === null ? '' : ` (McNemar p ${pValue(p)}: ${p < alpha ? 'significant' : 'not significant'} at ${alpha})`,
  ];
}

/** A line of a ModelSkill (the current model's, a fallback tier's): verdict and summary. */
const modelSkillLine = (label, skill) => el('li', {}, skill.passed ? badge('skill shown', 'yes') : badge('no skill shown', 'no'), ` ${label}: ${skill.summary}`);

function renderTrainingSkill(report) {
  const target = $('#skill-training');
  const t = report.training;
  if (!t) {
    show(target, el('h3', {}, 'Latest training'), el('p', { class: 'caption' }, `No full or fast training of ${report.symbol} has measured its skill yet.`));
    return;
  }
  const { gate, holdout, out_of_fold: outOfFold, fallbacks } = t.skill;
  const gateBadge = gate.enabled ? (gate.passed ? badge('gate passed', 'yes') : badge('gate failed', 'no')) : badge('gate off', 'unknown');
  show(
    target,
    el('h3', {}, `Latest training: run #${t.run_id} (${t.training_type}, ${when(t.created_at)}), holdout ${holdout.from} → ${holdout.to}`),
    el('p', { class: 'verdict', 'data-verdict': 'training' }, gateBadge, ` ${gate.enabled ? '' : 'not applied, the deploy rule decided. Its verdict: '}${gate.reason}`),
    el('p', { class: 'caption' }, `Version ${t.version_id ?? DASH}: ${t.deployed ? 'deployed' : 'not deployed'} — ${t.reason ?? DASH}`),
    el('div', { class: 'table-wrap', id: 'skill-holdout' }, skillTableView(holdout)),
    el(
      'ul',
      { class: 'skill-lines' },
      outOfFold ? el('li', {}, badge('out of fold', 'unknown'), ` ${outOfFold.n} sessions ${outOfFold.from} → ${outOfFold.to}: ${subjectName(outOfFold.subject.name)} hit rate ${pct(outOfFold.subject.hit_rate, 1)} ${between(outOfFold.subject.hit_rate_interval)} vs best baseline ${outOfFold.best_baseline.name} ${pct(outOfFold.best_baseline.hit_rate, 1)}; Brier skill ${signed(outOfFold.subject.brier_skill)}; IC ${signed(outOfFold.subject.ic)}`) : null,
      ...Object.entries(fallbacks ?? {}).map(([tier, skill]) => modelSkillLine(`fallback ${tier} on the same holdout`, skill)),
      report.current ? modelSkillLine(`current model ${report.current_version_id}${report.current.measured_version_id && report.current.measured_version_id !== report.current_version_id ? ` (measured on ${report.current.measured_version_id})` : ''}`, report.current) : el('li', {}, badge('never measured', 'unknown'), ` current model ${report.current_version_id ?? 'none'}: no stored skill`),
    ),
  );
}

const GROUP_COLUMNS = [
  { label: 'Group', value: (g) => g.label },
  { label: 'n', num: true, value: (g) => String(g.table.subject.n) },
  { label: 'Hit rate', num: true, value: (g) => pct(g.table.subject.hit_rate, 1) },
  { label: '95% interval', num: true, value: (g) => between(g.table.subject.hit_rate_interval) },
  { label: 'Best baseline (same sessions)', value: (g) => `${g.table.best_baseline.name} ${pct(g.table.best_baseline.hit_rate, 1)}` },
  { label: 'Brier skill', num: true, value: (g) => signed(g.table.subject.brier_skill) },
  { label: 'IC', num: true, value: (g) => signed(g.table.subject.ic) },
  { label: 'From → to', value: (g) => `${g.table.from} → ${g.table.to}` },
];

const LEVEL_COLUMNS = [
  { label: 'Level', value: (b) => b.label },
  { label: 'n', num: true, value: (b) => String(b.n) },
  { label: 'Hit rate', num: true, value: (b) => pct(b.hit_rate, 1) },
  { label: '95% interval', num: true, value: (b) => between(b.hit_rate_interval) },
  { label: 'Always up (same sessions)', num: true, value: (b) => pct(b.up_rate, 1) },
  { label: 'Mean 5-day return', num: true, value: (b) => pct(b.mean_actual_return) },
];

function renderLiveSkill(report, alpha) {
  const live = report.live;
  const served = live.served;
  const dropped = live.without_baselines > 0 ? el('p', { class: 'note' }, `${plural(live.without_baselines, 'backfilled record')} from before baselines were kept ${live.without_baselines === 1 ? 'is' : 'are'} left out.`) : null;
  if (!served) {
    show(
      $('#skill-live'),
      el('h3', {}, `Live: prediction set ${report.prediction_set}`),
      el('p', { class: 'caption', 'data-verdict': 'live' }, `No scored prediction of ${report.symbol} with its baselines yet (${plural(live.records, 'backfilled record')}): backfill accuracy once the fifth session after a prediction is stored.`),
      dropped,
    );
    return;
  }
  const groups = [
    ...Object.entries(live.by_source).map(([source, table]) => ({ label: `source ${source}`, table })),
    ...Object.entries(live.by_version).map(([version, table]) => ({ label: `version ${version}`, table })),
  ];
  const levels = [
    ...LEVELS.map((level) => ({ label: `confidence ${level}`, ...report.by_confidence[level] })),
    ...Object.entries(report.by_grade).map(([grade, bucket]) => ({ label: grade, ...bucket })),
  ].filter((b) => b && b.n > 0);
  show(
    $('#skill-live'),
    el('h3', {}, `Live: prediction set ${report.prediction_set}, ${served.from} → ${served.to}`),
    el('p', { class: 'verdict', 'data-verdict': 'live' }, versusBest(served, alpha)),
    el('div', { class: 'table-wrap', id: 'skill-served' }, skillTableView(served)),
    dropped,
    el('h3', {}, 'Live by source and model version'),
    el('div', { class: 'table-wrap', id: 'skill-groups' }, table(GROUP_COLUMNS, groups, { empty: 'No groups.' })),
    el('h3', {}, 'Realised per confidence level and grade'),
    el('div', { class: 'table-wrap', id: 'skill-levels-table' }, table(LEVEL_COLUMNS, levels, { empty: 'No scored signals.' })),
  );
}

/** The non-empty bins of a reliability diagram as [mean P(up), realised frequency, n, low, high]. */
const reliabilityPoints = (bins) => bins.filter((b) => b.n > 0).map((b) => [b.mean_prob, b.frequency, b.n, b.low, b.high]);

/** Reliability diagram: holdout and live, raw and calibrated, against the diagonal; each legend entry has its ECE. */
function drawReliability(report) {
  const holdout = report.training?.skill.calibration;
  const live = report.live.calibration;
  const series = [];
  const add = (name, bins, ece, color, dashed) =>
    series.push({
      name: `${name} · ECE ${num(ece, 3)}`,
      type: 'line',
      data: reliabilityPoints(bins),
      itemStyle: { color },
      lineStyle: { color, width: 1.5, type: dashed ? 'dashed' : 'solid' },
      symbol: dashed ? 'emptyCircle' : 'circle',
      symbolSize: (value) => Math.min(18, 5 + Math.sqrt(value[2]) * 1.5),
    });
  if (holdout?.reliability_raw) {
    add('holdout raw', holdout.reliability_raw, holdout.ece_raw, BLUE, true);
    add('holdout calibrated', holdout.reliability_calibrated, holdout.ece_calibrated, BLUE, false);
  }
  if (live) {
    add('live raw', live.reliability_raw, live.ece_raw, AMBER, true);
    add('live calibrated', live.reliability_calibrated, live.ece_calibrated, AMBER, false);
  }
  if (series.length === 0) {
    $('#skill-reliability').hidden = true;
    return false;
  }
  series[0].markLine = {
    silent: true,
    symbol: 'none',
    lineStyle: { color: GREY, type: 'dotted', width: 1.5 },
    label: { show: false },
    data: [[{ coord: [0, 0] }, { coord: [1, 1] }]],
  };
  $('#skill-reliability').hidden = false;
  draw('reliability', {
    title: { text: `${report.symbol}: realised vs predicted (dotted: perfect calibration)`, left: 8, top: 4, textStyle: { fontSize: 13 } },
    legend: { top: 26, left: 8, right: 8, itemHeight: 10, textStyle: { fontSize: 12 } },
    grid: { left: 56, right: 20, top: 84, bottom: 48 },
    xAxis: percentAxis({ min: 0, max: 1, interval: 0.1, name: 'mean predicted P(up)', nameLocation: 'middle', nameGap: 28 }),
    yAxis: percentAxis({ min: 0, max: 1, interval: 0.1, name: 'realised frequency of up', nameLocation: 'middle', nameGap: 40 }),
    tooltip: {
      trigger: 'item',
      formatter: (p) => `${p.seriesName}<br>P(up) in [${pct(p.value[3], 0)}, ${pct(p.value[4], 0)}): ${p.value[2]} sessions<br>mean P(up) ${pct(p.value[0], 1)}, realised ${pct(p.value[1], 1)}`,
    },
    series,
  });
  return true;
}

/** ECE of each sample and the conformal levels' coverage, nominal against realised. */
function renderCalibrationFacts(report) {
  const training = report.training?.skill;
  const calibration = training?.calibration;
  const live = report.live;
  const eceRows = [
    ...(calibration?.ece_out_of_fold_raw !== undefined ? [{ sample: 'out of fold (calibration fitted here)', n: calibration.out_of_fold_rows, raw: calibration.ece_out_of_fold_raw, calibrated: null }] : []),
    ...(calibration?.ece_raw !== undefined ? [{ sample: 'holdout', n: training.holdout.n, raw: calibration.ece_raw, calibrated: calibration.ece_calibrated }] : []),
    ...(live.calibration ? [{ sample: 'live', n: live.calibration.n, raw: live.calibration.ece_raw, calibrated: live.calibration.ece_calibrated }] : []),
  ];
  const conformal = training?.conformal;
  const coverageRows = [
    ...(conformal ? [{ sample: 'holdout', n: conformal.sessions, nominal: conformal.coverage, realised: conformal.realised_coverage, interval: conformal.interval }] : []),
    ...(live.coverage ? [{ sample: 'live', n: live.coverage.n, nominal: live.coverage.nominal, realised: live.coverage.realised, interval: live.coverage.interval }] : []),
  ];
  show(
    $('#skill-calibration'),
    el('h3', {}, `Expected calibration error${calibration?.method ? ` (calibration: ${calibration.method})` : ''}`),
    el('div', { class: 'table-wrap', id: 'skill-ece' }, table(
      [
        { label: 'Sample', value: (r) => r.sample },
        { label: 'n', num: true, value: (r) => String(r.n) },
        { label: 'ECE raw', num: true, value: (r) => num(r.raw, 3) },
        { label: 'ECE calibrated', num: true, value: (r) => num(r.calibrated, 3) },
      ],
      eceRows,
      { empty: 'No calibration measured yet.' },
    )),
    el('h3', {}, 'Conformal stop / target: coverage'),
    el('div', { class: 'table-wrap', id: 'skill-coverage' }, table(
      [
        { label: 'Sample', value: (r) => r.sample },
        { label: 'n', num: true, value: (r) => String(r.n) },
        { label: 'Nominal', num: true, value: (r) => pct(r.nominal, 1) },
        { label: 'Realised', num: true, value: (r) => pct(r.realised, 1) },
        { label: '95% interval', num: true, value: (r) => between(r.interval) },
        { label: 'vs nominal', value: (r) => (r.interval.high < r.nominal ? badge('below', 'no') : r.interval.low > r.nominal ? badge('above', 'warning') : badge('consistent', 'yes')) },
      ],
      coverageRows,
      { empty: 'No conformal levels measured yet.' },
    )),
    conformal
      ? el('p', { class: 'note' }, `Holdout: the 5-session return within ${signed(conformal.lower, 2)} … ${signed(conformal.upper, 2)} × the volatility scale (20-session volatility × √5) around the forecast, from ${conformal.n} out-of-fold scores; it held ${conformal.covered} of ${conformal.sessions} holdout sessions (Wilson interval).`)
      : null,
  );
}

async function loadSkill(form, { auto = false } = {}) {
  const input = form.elements.symbol;
  if (auto) {
    // Opening the tab loads a stored symbol: the one in the field if it is stored, else the first.
    const stored = (await api('GET', '/monitoring')).symbols.map((s) => s.symbol);
    if (stored.length === 0) {
      show($('#skill-caption'), 'No symbols stored.');
      return;
    }
    if (!stored.includes(input.value.trim())) input.value = stored[0];
  }
  const { symbol, set } = formValues(form);
  const report = await api('GET', '/skill', { query: { symbol, set } });
  const alpha = report.training?.skill.gate?.alpha ?? 0.05;
  show(
    $('#skill-caption'),
    `${report.symbol} · prediction set ${report.prediction_set} · current model ${report.current_version_id ?? 'none'}`,
  );
  renderTrainingSkill(report);
  renderLiveSkill(report, alpha);
  renderCalibrationFacts(report);
  drawReliability(report);
}

/**
 * The API keeps failure rows to itself; what it shows is each symbol's count since its current model
 * (what the training_failure_count alert counts) and the failed jobs among the queue's recent ones.
 */
function renderFailures(status) {
  const failedJobs = (status.queue?.recent ?? []).filter((job) => job.status === 'failed');
  show(
    $('#failures-table'),
    table(
      [
        { label: 'Symbol', value: (s) => s.symbol },
        { label: 'Since the current model', num: true, value: (s) => String(s.training_failures) },
      ],
      status.symbols,
      { empty: 'No symbols stored.' },
    ),
    el('h3', {}, 'Failed jobs among the last finished'),
    table(
      [
        { label: 'Job', value: (j) => `#${j.id}` },
        { label: 'Finished', value: (j) => when(j.finished_at) },
        { label: 'Symbol', value: (j) => j.symbol },
        { label: 'Mode', value: (j) => j.training_type },
        { label: 'Trigger', value: (j) => j.trigger_type },
        { label: 'Error', wrap: true, value: (j) => j.error ?? DASH },
      ],
      failedJobs,
      { empty: 'None failed.' },
    ),
  );
}

async function loadBacktest(form) {
  const { id } = formValues(form);
  const { replays } = await api('GET', `/backtests/${encodeURIComponent(id)}`);
  // The latest replay per strategy; the first report (first strategy, first symbol) is charted.
  const reports = Object.values(replays).flatMap((replay) => replay.reports);
  if (reports.length === 0) throw new Error(`backtest ${id} has not been replayed yet: run \`lstm-signals backtest --replay ${id}\``);
  show(
    $('#backtest-summary'),
    table(
      [
        { label: 'Strategy', value: (r) => r.strategy },
        { label: 'Symbol', value: (r) => r.symbol },
        { label: 'Period', value: (r) => `${r.from} → ${r.to}` },
        { label: 'Return', num: true, value: (r) => pct(r.total_return) },
        { label: 'Buy & hold', num: true, value: (r) => pct(r.buy_and_hold.total_return) },
        { label: 'Sharpe', num: true, value: (r) => num(r.sharpe, 2) },
        { label: 'Max drawdown', num: true, value: (r) => pct(r.max_drawdown) },
        { label: 'Trades', num: true, value: (r) => String(r.trade_count) },
        { label: 'Win rate', num: true, value: (r) => pct(r.win_rate, 1) },
      ],
      reports,
    ),
  );
  const [first] = reports;
  draw('backtest-equity', {
    title: { text: `${first.strategy} on ${first.symbol}: equity`, left: 8, top: 4, textStyle: { fontSize: 13 } },
    legend: { top: 4, right: 16 },
    xAxis: dateAxis(first.equity_curve.map((p) => p.date)),
    yAxis: { type: 'value', scale: true },
    tooltip: { trigger: 'axis', valueFormatter: (v) => num(v, 0) },
    dataZoom: zoom,
    series: [line('Strategy', first.equity_curve.map((p) => p.strategy), GREEN), line('Buy and hold', first.equity_curve.map((p) => p.buy_and_hold), GREY)],
  });
}

// ---- Queue -------------------------------------------------------------------------------------

/** A worker id is `host:pid:start`: the host is shown, the whole id in the tooltip. */
const workerHost = (worker) => (worker ? el('span', { title: worker, 'data-worker': worker }, worker.split(':')[0]) : DASH);

const JOB_ACTIONS = {
  retry: { label: 'Retry', done: (job) => `Job #${job.id} (${job.symbol} ${job.training_type}) is queued again.` },
  cancel: {
    label: 'Cancel',
    done: (job) => (job.status === 'failed' ? `Job #${job.id} (${job.symbol} ${job.training_type}) is cancelled.` : `Job #${job.id} (${job.symbol} ${job.training_type}): its worker stops it at its next lease renewal.`),
  },
};
const actionOf = (job) => (job.status === 'failed' ? 'retry' : FINISHED.has(job.status) ? null : 'cancel');

const QUEUE_COLUMNS = [
  { label: '#', num: true, value: (j) => String(j.id) },
  { label: 'Symbol', value: (j) => j.symbol },
  { label: 'Mode', value: (j) => j.training_type },
  { label: 'Trigger', value: (j) => j.trigger_type },
  { label: 'Session', value: (j) => j.session ?? DASH },
  { label: 'Status', value: (j) => badge(j.status) },
  { label: 'Worker', value: (j) => workerHost(j.worker) },
  { label: 'Attempts', num: true, value: (j) => String(j.attempts) },
  // A waiting job's stored progress is its previous attempt's (a retried job keeps it): not shown.
  { label: 'Progress', wrap: true, value: (j) => (j.progress_json && j.status !== 'queued' ? progressText(j.progress_json) : DASH) },
  { label: 'Started', breaks: true, value: (j) => stamp(j.started_at) },
  { label: 'Finished', breaks: true, value: (j) => stamp(j.finished_at) },
  { label: 'Last error', wrap: true, value: (j) => j.error ?? DASH },
  {
    label: '',
    value: (j) => {
      const action = actionOf(j);
      return action ? el('button', { type: 'button', 'data-action': action, onclick: () => act($('#queue-card'), () => changeJob(j, action)) }, JOB_ACTIONS[action].label) : null;
    },
  },
];

/** The last queue rendered, so a refresh that finds it unchanged leaves the tables (and a pointer on a button) alone. */
let shownQueue = '';

async function loadQueue() {
  const state = await api('GET', '/jobs');
  const text = JSON.stringify(state);
  if (text === shownQueue && $('#queue-tables').hasChildNodes()) return;
  shownQueue = text;
  const groups = [
    ['active', 'Active', state.running, 'Nothing running.'],
    ['waiting', 'Waiting', state.queued, 'Nothing waiting.'],
    ['failed', 'Failed', state.recent.filter((j) => j.status === 'failed'), 'None failed.'],
    ['completed', 'Completed', state.recent.filter((j) => j.status === 'succeeded'), 'None completed.'],
  ];
  $('#queue-summary').textContent = `${groups.map(([, title, jobs]) => `${title.toLowerCase()} ${jobs.length}`).join(' · ')} · ${plural(state.concurrency, 'training')} at once per process`;
  show(
    $('#queue-tables'),
    ...groups.map(([id, title, jobs, empty]) =>
      el('section', { 'data-jobs': id }, el('h3', {}, `${title} (${jobs.length})`), el('div', { class: 'table-wrap' }, table(QUEUE_COLUMNS, jobs, { rowAttributes: (j) => ({ 'data-job': j.id }), empty }))),
    ),
  );
}

/** Retry or cancel: the outcome, or the server's reason for refusing, stays shown until the next action. */
async function changeJob(job, action) {
  const message = $('#queue-message');
  try {
    const changed = (await api('POST', `/jobs/${job.id}/${action}`, { body: {} })).job;
    message.className = 'ok-text';
    show(message, JOB_ACTIONS[action].done(changed));
  } catch (e) {
    message.className = 'error';
    show(message, e instanceof Error ? e.message : String(e));
  }
  await loadQueue();
}

/** While the Queue tab is open it follows the queue, as the training card follows its job. */
function refreshQueue() {
  const card = $('#queue-card');
  if (!card.closest('[data-panel]').hidden && !card.hasAttribute('aria-busy')) void act(card, loadQueue);
}

// ---- wiring ------------------------------------------------------------------------------------

/** Binds a form's submit to a card action; the submitter (e.g. the years button) is passed on. */
function onSubmit(form, task) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(form.closest('.card'), () => task(form, event.submitter?.value));
  });
}

tokenInput.value = localStorage.getItem(TOKEN_KEY) ?? '';
tokenInput.addEventListener('input', () => localStorage.setItem(TOKEN_KEY, tokenInput.value.trim()));

for (const button of document.querySelectorAll('[data-tab]')) button.addEventListener('click', () => showTab(button.dataset.tab));
window.addEventListener('resize', () => {
  for (const chart of Object.values(charts)) chart.resize();
});

onSubmit($('#train-form'), train);
onSubmit($('#predict-form'), (form) => predict(formValues(form).symbol));
$('#predict-all').addEventListener('click', () => act($('#predict-card'), predictAll));
onSubmit($('#fit-form'), fit);
onSubmit($('#runs-form'), loadRuns);
$('#versions-reload').addEventListener('click', () => act($('#versions-card'), loadVersions));
onSubmit($('#accuracy-form'), updateAccuracy);
onSubmit($('#triggers-form'), checkTriggers);
$('#status-reload').addEventListener('click', () => act($('#status-card'), loadStatus));
onSubmit($('#decay-form'), checkDecay);
$('#alerts-check').addEventListener('click', () => act($('#alerts-card'), () => alerts(false)));
$('#alerts-fire').addEventListener('click', () => act($('#alerts-card'), () => alerts(true)));
onSubmit($('#skill-form'), (form) => loadSkill(form));
onSubmit($('#backtest-form'), loadBacktest);
$('#queue-reload').addEventListener('click', () => act($('#queue-card'), loadQueue));
setInterval(refreshQueue, QUEUE_REFRESH_MS);

showTab(location.hash.slice(1) in TABS ? location.hash.slice(1) : 'train');
