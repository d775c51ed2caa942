import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../plugin/config.js';
import type { Logger } from '../plugin/host.js';
import {
  accuracyRecordsNeeded,
  alertSettingsFromConfig,
  checkAlerts,
  type AccuracySample,
  type AlertCandidate,
  type AlertInput,
  type AlertSettings,
  type DecaySummary,
} from '../plugin/monitoring/alert-rules.js';
import { AlertService, deliverySettingsFromConfig, webhookBody, type AlertDeliverySettings } from '../plugin/monitoring/alert-service.js';
import type { AlertRow } from '../plugin/store/entities.js';
import { testDatabases, useTestStore } from './support/databases.js';
import { closedPort, startWebhook, until } from './support/webhook.js';

const settings: AlertSettings = {
  max_days_without_training: 30,
  accuracy_window: 20,
  consecutive_errors: 5,
  high_error_factor: 2,
  max_training_failures: 3,
};

/** Raises nothing: a fresh model, no accuracy records, no failures, no decay check. */
const quiet: AlertInput = { symbol: 'SPX', as_of: '2024-03-28', decay: null, days_since_training: 10, recent_accuracy: [], training_failures: 0 };

/** A decay check with a baseline: historical mean 1.5%, threshold 2.25%. */
const decay = (recent_avg_error: number, triggered: boolean, threshold: number | null = 0.0225): DecaySummary => ({
  triggered,
  recent_avg_error,
  historical_avg_error: 0.015,
  threshold,
  n_recent_samples: 20,
  n_historical_samples: 80,
});

/**
 * Records paired with the baselines on the same sessions: `both` sessions the served signal and the majority
 * baseline got right, `onlyServed`, `onlyBaseline`, `neither`; momentum_5 right on the first `momentum` of them.
 */
const paired = (both: number, onlyServed: number, onlyBaseline: number, neither: number, momentum = 0): AccuracySample[] =>
  [
    ...Array.from({ length: both }, () => [true, true] as const),
    ...Array.from({ length: onlyServed }, () => [true, false] as const),
    ...Array.from({ length: onlyBaseline }, () => [false, true] as const),
    ...Array.from({ length: neither }, () => [false, false] as const),
  ].map(([correct, majority], i) => ({ correct, baselines: { majority, momentum_5: i < momentum }, error_magnitude: 0.01 }));
const errors = (...magnitudes: number[]): AccuracySample[] => magnitudes.map((error_magnitude) => ({ correct: true, baselines: null, error_magnitude }));

const toRow = (alert: AlertCandidate) => ({
  alert_type: alert.alert_type,
  symbol: alert.symbol,
  severity: alert.severity,
  message: alert.message,
  details_json: alert.details,
  dedupe_key: alert.dedupe_key,
});

const one = (alert: Omit<AlertCandidate, 'symbol' | 'dedupe_key'>): AlertCandidate[] => [
  { alert_type: alert.alert_type, symbol: 'SPX', severity: alert.severity, message: alert.message, details: alert.details, dedupe_key: `${alert.alert_type}:SPX` },
];

describe('alert rules', () => {
  it('defaults: the configuration resolves to the settings these tests use; the caller fetches 20 accuracy records', () => {
    expect(alertSettingsFromConfig(resolveConfig())).toEqual(settings);
    expect(accuracyRecordsNeeded(settings)).toBe(20);
    expect(accuracyRecordsNeeded({ ...settings, consecutive_errors: 30 })).toBe(30);
  });

  it('a quiet symbol raises nothing', () => {
    expect(checkAlerts(quiet, settings)).toEqual([]);
  });

  it.each<[string, DecaySummary | null, AlertCandidate[]]>([
    ['no decay check', null, []],
    ['below the threshold', decay(0.02, false), []],
    ['at the threshold (not above it)', decay(0.0225, false), []],
    [
      'above the threshold',
      decay(0.03, true),
      one({
        alert_type: 'performance_decay',
        severity: 'warning',
        message: 'SPX: performance decay: mean error of the last 20 predictions 3.00% > threshold 2.25% (historical mean 1.50% over 80 predictions)',
        details: { recent_avg_error: 0.03, historical_avg_error: 0.015, threshold: 0.0225, n_recent_samples: 20, n_historical_samples: 80 },
      }),
    ],
  ])('performance_decay: %s', (_, decayCheck, expected) => {
    expect(checkAlerts({ ...quiet, decay: decayCheck }, settings)).toEqual(expected);
  });

  it.each<[string, number | null, AlertCandidate[]]>([
    ['below the limit', 29, []],
    ['at the limit', 30, []],
    [
      'above the limit',
      31,
      one({
        alert_type: 'no_recent_training',
        severity: 'warning',
        message: "SPX: the model's data ends 31 days before 2024-03-28 (max_days_without_training 30)",
        details: { days_since_training: 31, max_days_without_training: 30, as_of: '2024-03-28' },
      }),
    ],
    [
      'never trained',
      null,
      one({
        alert_type: 'no_recent_training',
        severity: 'critical',
        message: 'SPX: no trained model at 2024-03-28',
        details: { days_since_training: null, max_days_without_training: 30, as_of: '2024-03-28' },
      }),
    ],
  ])('no_recent_training: %s', (_, days, expected) => {
    expect(checkAlerts({ ...quiet, days_since_training: days }, settings)).toEqual(expected);
  });

  const lowAccuracy = (details: { hits: number; best_baseline: string; best_baseline_hits: number; mcnemar_p: number }, message: string) =>
    one({
      alert_type: 'low_accuracy',
      severity: 'warning',
      message,
      // The exact binomial tail is summed in log space: equal to the fraction to ~1e-15.
      details: { n: 20, hit_rate: details.hits / 20, best_baseline_hit_rate: details.best_baseline_hits / 20, ...details, mcnemar_p: expect.closeTo(details.mcnemar_p, 12) },
    });

  it.each<[string, AccuracySample[], AlertCandidate[]]>([
    ['as good as the majority baseline: 11 of 20 each', paired(9, 2, 2, 7), []],
    ['better than the baseline', paired(9, 3, 1, 7), []],
    // b = 2, c = 4: p = 2·P(X ≤ 2 | 6, ½) = 2·(1 + 6 + 15)/64 = 0.6875
    [
      'below the majority baseline: 10 of 20 against 12 of 20',
      paired(8, 2, 4, 6),
      lowAccuracy(
        { hits: 10, best_baseline: 'majority', best_baseline_hits: 12, mcnemar_p: 0.6875 },
        "SPX: hit rate 50.0% (10 of the last 20 predictions) < majority's 60.0% on the same sessions (McNemar p 0.69)",
      ),
    ],
    // Not a coin: 9 of 20 is no alert when the baselines did no better on those sessions.
    ['below 50% but level with the baselines: 9 of 20 each', paired(9, 0, 0, 11), []],
    // The best of the baselines counts: momentum right on the first 15 (b = 0, c = 6: p = 2·(1/64) = 0.03125).
    [
      'the best baseline is the yardstick',
      paired(9, 0, 0, 11, 15),
      lowAccuracy(
        { hits: 9, best_baseline: 'momentum_5', best_baseline_hits: 15, mcnemar_p: 0.03125 },
        "SPX: hit rate 45.0% (9 of the last 20 predictions) < momentum_5's 75.0% on the same sessions (McNemar p 0.031)",
      ),
    ],
    ['no evidence: 19 records', paired(0, 0, 10, 9), []],
    ['records written before baselines were kept: no comparison', errors(...Array<number>(20).fill(0.01)).map((r) => ({ ...r, correct: false })), []],
    ['only the last 20 count', [...paired(0, 0, 5, 0), ...paired(9, 2, 2, 7)], []],
  ])('low_accuracy: %s', (_, records, expected) => {
    expect(checkAlerts({ ...quiet, recent_accuracy: records }, settings)).toEqual(expected);
  });

  const highErrors = (misses: number[]) =>
    one({
      alert_type: 'consecutive_high_error',
      severity: 'warning',
      message: `SPX: each of the last 5 predictions missed by more than 3.00% (2 × historical mean error 1.50%); smallest miss ${(Math.min(...misses) * 100).toFixed(2)}%`,
      details: { errors: misses, limit: 0.03, historical_avg_error: 0.015, high_error_factor: 2, consecutive_errors: 5 },
    });

  it.each<[string, DecaySummary | null, AccuracySample[], AlertCandidate[]]>([
    ['all five above 2 × 1.5%', decay(0.02, false), errors(0.031, 0.05, 0.031, 0.04, 0.032), highErrors([0.031, 0.05, 0.031, 0.04, 0.032])],
    ['one of five at the limit', decay(0.02, false), errors(0.031, 0.05, 0.03, 0.04, 0.032), []],
    ['one of five below the limit', decay(0.02, false), errors(0.031, 0.05, 0.031, 0.04, 0.01), []],
    ['only four records', decay(0.02, false), errors(0.05, 0.05, 0.05, 0.05), []],
    ['an earlier low error does not matter', decay(0.02, false), errors(0.01, 0.04, 0.04, 0.04, 0.04, 0.04), highErrors([0.04, 0.04, 0.04, 0.04, 0.04])],
    ['no decay check: no baseline', null, errors(0.05, 0.05, 0.05, 0.05, 0.05), []],
    ['decay check without enough history: no baseline', decay(0.05, false, null), errors(0.05, 0.05, 0.05, 0.05, 0.05), []],
  ])('consecutive_high_error: %s', (_, decayCheck, records, expected) => {
    expect(checkAlerts({ ...quiet, decay: decayCheck, recent_accuracy: records }, settings)).toEqual(expected);
  });

  const failures = (n: number) =>
    one({
      alert_type: 'training_failure_count',
      severity: 'critical',
      message: `SPX: ${n} training failures since the last successful training (alert at 3)`,
      details: { training_failures: n, max_training_failures: 3 },
    });

  it.each<[number, AlertCandidate[]]>([
    [2, []],
    [3, failures(3)],
    [4, failures(4)],
  ])('training_failure_count: %i failures', (n, expected) => {
    expect(checkAlerts({ ...quiet, training_failures: n }, settings)).toEqual(expected);
  });

  it('raises every alert at once, in a fixed order, each with its own dedupe key', () => {
    const input: AlertInput = {
      symbol: 'NDX',
      as_of: '2024-03-28',
      decay: decay(0.03, true),
      days_since_training: null,
      recent_accuracy: paired(0, 0, 20, 0).map((r) => ({ ...r, error_magnitude: 0.05 })),
      training_failures: 5,
    };
    expect(checkAlerts(input, settings).map((a) => [a.dedupe_key, a.severity])).toEqual([
      ['performance_decay:NDX', 'warning'],
      ['no_recent_training:NDX', 'critical'],
      ['low_accuracy:NDX', 'warning'],
      ['consecutive_high_error:NDX', 'warning'],
      ['training_failure_count:NDX', 'critical'],
    ]);
  });
});

describe('delivery settings', () => {
  it('LSTM_ALERT_WEBHOOK overrides the configured webhook_url; the other settings come from alerts', () => {
    const config = resolveConfig({ webhook_url: 'https://hooks.example/config', alerts: { retries: 1 } });
    expect(deliverySettingsFromConfig(config, { LSTM_ALERT_WEBHOOK: 'https://hooks.example/env' })).toEqual({
      webhook_url: 'https://hooks.example/env',
      timeout_ms: 5000,
      retries: 1,
      backoff_ms: 1000,
      max_backoff_ms: 300_000,
      max_age_hours: 24,
      cooldown_hours: 6,
    });
    expect(deliverySettingsFromConfig(config, {}).webhook_url).toBe('https://hooks.example/config');
    expect(deliverySettingsFromConfig(resolveConfig(), {}).webhook_url).toBeUndefined();
    expect(() => resolveConfig({ webhook_url: 'hooks.example' })).toThrow('webhook_url: must match pattern "^https?://"');
  });

  it('alerts.delivery off: no webhook, whatever LSTM_ALERT_WEBHOOK and webhook_url say', () => {
    const config = resolveConfig({ webhook_url: 'https://hooks.example/config', alerts: { delivery: false } });
    expect(deliverySettingsFromConfig(config, { LSTM_ALERT_WEBHOOK: 'https://hooks.example/env' }).webhook_url).toBeUndefined();
  });
});

function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }, lines };
}

/**
 * Timers the alert service created that have neither fired nor been cleared. Counted through async hooks
 * rather than process.getActiveResourcesInfo(), whose Timeout count includes the test runner's own timers.
 */
function watchServiceTimers(): { live: () => number; stop: () => void } {
  const live = new Set<number>();
  const hook = createHook({
    init(id, type) {
      if (type === 'Timeout' && new Error().stack!.includes('alert-service.ts')) live.add(id);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return { live: () => live.size, stop: () => void hook.disable() };
}

describe.each(testDatabases)('alert delivery on $name', (db) => {
  const testStore = useTestStore(db);
  const fast = { timeout_ms: 200, retries: 3, backoff_ms: 20, max_backoff_ms: 1000, max_age_hours: 24, cooldown_hours: 6 };
  /** Each test alerts on its own symbol, so the cool-down of one never touches another. */
  const alertFor = (symbol: string) => checkAlerts({ ...quiet, symbol, training_failures: 3 }, settings);
  const stored = (id: number) => testStore().repos.alert.findOneByOrFail({ id });

  function service(delivery: Partial<AlertDeliverySettings>, now?: () => Date) {
    const { logger, lines } = recordingLogger();
    return { alerts: new AlertService(testStore(), { ...fast, ...delivery }, logger, { now }), lines };
  }


  it('(a) delivers once, with the documented JSON body', async () => {
    const hook = await startWebhook([200]);
    const { alerts } = service({ webhook_url: hook.url });
    const [row] = await alerts.fire(alertFor('AAA'));
    expect(row).toMatchObject({ delivery_status: 'pending', delivery_attempts: 0, dedupe_key: 'training_failure_count:AAA' });
    await alerts.idle();
    expect(hook.received).toEqual([
      {
        at: expect.any(Number),
        reply: 200,
        contentType: 'application/json',
        body: {
          id: row!.id,
          alert_type: 'training_failure_count',
          symbol: 'AAA',
          severity: 'critical',
          message: 'AAA: 3 training failures since the last successful training (alert at 3)',
          details: { training_failures: 3, max_training_failures: 3 },
          dedupe_key: 'training_failure_count:AAA',
          created_at: row!.created_at.toISOString(),
          source: 'lstm-signals',
          text: '[critical] AAA: 3 training failures since the last successful training (alert at 3)',
        },
      },
    ]);
    expect(hook.received[0]!.body).toEqual(webhookBody(row!));
    expect(await stored(row!.id)).toMatchObject({ delivery_status: 'delivered', delivery_attempts: 1, last_error: null, delivered_at: expect.any(Date) });
    await alerts.close();
    await hook.close();
  });

  it('(b) 503, 503, then 200: retried after 20 ms and 40 ms, delivered on the third attempt', async () => {
    const hook = await startWebhook([503, 503, 200]);
    const { alerts, lines } = service({ webhook_url: hook.url });
    const [row] = await alerts.fire(alertFor('BBB'));
    await alerts.idle();
    const at = hook.received.map((r) => r.at);
    expect(at).toHaveLength(3);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(20);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(40);
    expect(await stored(row!.id)).toMatchObject({
      delivery_status: 'delivered',
      delivery_attempts: 3,
      last_error: 'attempt 2: HTTP 503 Service Unavailable',
    });
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual([
      `warn alert ${row!.id}: webhook attempt 1: HTTP 503 Service Unavailable`,
      `warn alert ${row!.id}: webhook attempt 2: HTTP 503 Service Unavailable`,
    ]);
    await alerts.close();
    await hook.close();
  });

  it('(c) webhook down, then up before the third attempt: delivered on it', async () => {
    const port = await closedPort();
    const { alerts, lines } = service({ webhook_url: `http://127.0.0.1:${port}/hook`, backoff_ms: 50 });
    const [row] = await alerts.fire(alertFor('CCC'));
    // The second attempt was refused; the third comes 100 ms later.
    await until(() => lines.some((l) => l.includes('webhook attempt 2:')));
    const hook = await startWebhook([200], port);
    await alerts.idle();
    expect(hook.received).toHaveLength(1);
    expect(await stored(row!.id)).toMatchObject({
      delivery_status: 'delivered',
      delivery_attempts: 3,
      last_error: `attempt 2: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
    await alerts.close();
    await hook.close();
  });

  it('(d) a webhook that never answers: fire returns at once, each attempt times out, left pending with its next attempt time', async () => {
    const hook = await startWebhook(['hang']);
    const { alerts } = service({ webhook_url: hook.url, timeout_ms: 400, retries: 1, backoff_ms: 10 });
    const started = performance.now();
    const [row] = await alerts.fire(alertFor('DDD'));
    expect(performance.now() - started).toBeLessThan(200);
    // Stored before the first attempt ended.
    expect(await stored(row!.id)).toMatchObject({ delivery_status: 'pending', delivery_attempts: 0 });
    await alerts.idle();
    const ended = Date.now();
    expect(performance.now() - started).toBeGreaterThanOrEqual(810);
    expect(hook.received).toHaveLength(2);
    const left = await stored(row!.id);
    expect(left).toMatchObject({
      delivery_status: 'pending',
      delivery_attempts: 2,
      last_error: 'attempt 2: no answer within 400 ms',
      delivered_at: null,
    });
    // After the second failed attempt: backoff_ms × 2 = 20 ms later.
    expect(left.next_attempt_at!.getTime()).toBeGreaterThan(ended - 1000);
    expect(left.next_attempt_at!.getTime()).toBeLessThanOrEqual(ended + 20);
    await alerts.close();
    await hook.close();
  });

  it('(e) the same dedupe key inside the cool-down is stored suppressed and not sent; from 6 h on it is sent', async () => {
    const hook = await startWebhook([200]);
    let clock = Date.parse('2024-03-28T12:00:00.000Z');
    const { alerts } = service({ webhook_url: hook.url }, () => new Date(clock));
    const [first] = await alerts.fire(alertFor('EEE'));
    await alerts.idle();
    expect((await stored(first!.id)).delivered_at).toEqual(new Date('2024-03-28T12:00:00.000Z'));

    clock += 6 * 3_600_000 - 1;
    const [suppressed, other] = await alerts.fire([...alertFor('EEE'), ...alertFor('EEF')]);
    await alerts.idle();
    expect(suppressed).toMatchObject({ delivery_status: 'suppressed', delivery_attempts: 0 });
    expect(await stored(suppressed!.id)).toMatchObject({ delivery_status: 'suppressed', delivery_attempts: 0, delivered_at: null });
    expect(await stored(other!.id)).toMatchObject({ delivery_status: 'delivered', delivery_attempts: 1 });
    expect(hook.received.map((r) => (r.body as { id: number }).id)).toEqual([first!.id, other!.id]);

    clock += 1;
    const [again] = await alerts.fire(alertFor('EEE'));
    await alerts.idle();
    expect(await stored(again!.id)).toMatchObject({ delivery_status: 'delivered', delivery_attempts: 1, delivered_at: new Date('2024-03-28T18:00:00.000Z') });
    expect(hook.received.map((r) => (r.body as { id: number }).id)).toEqual([first!.id, other!.id, again!.id]);
    await alerts.close();
    await hook.close();
  });

  it('(f) without a webhook: stored no_webhook, nothing sent', async () => {
    const { alerts } = service({ webhook_url: undefined });
    const [row] = await alerts.fire(alertFor('FFF'));
    await alerts.idle();
    expect(await stored(row!.id)).toMatchObject({ delivery_status: 'no_webhook', delivery_attempts: 0, last_error: null, delivered_at: null });
    await alerts.close();
  });

  it('(g) close() during a backoff wait: the retry waits for the next process, the alert stays pending, and no timer is left', async () => {
    const hook = await startWebhook([503]);
    const timers = watchServiceTimers();
    const { alerts, lines } = service({ webhook_url: hook.url, backoff_ms: 60_000, max_backoff_ms: 60_000 });
    const [row] = await alerts.fire(alertFor('GGG'));
    await until(() => lines.some((l) => l.includes('webhook attempt 1:')));
    await until(() => timers.live() === 1); // the 60 s backoff wait
    const closing = Date.now();
    await alerts.close();
    expect(Date.now() - closing).toBeLessThan(1000);
    await until(() => timers.live() === 0, 200);
    timers.stop();
    const left = await stored(row!.id);
    expect(left).toMatchObject({ delivery_status: 'pending', delivery_attempts: 1, last_error: 'attempt 1: HTTP 503 Service Unavailable' });
    expect(left.next_attempt_at!.getTime() - closing).toBeGreaterThan(50_000);
    expect(hook.received).toHaveLength(1);
    await hook.close();
  });

  it('(g) close() during an attempt: the attempt ends (here by its timeout), no retry follows, the alert stays pending, no timer is left', async () => {
    const hook = await startWebhook(['hang']);
    const timers = watchServiceTimers();
    const { alerts } = service({ webhook_url: hook.url, timeout_ms: 100 });
    const [row] = await alerts.fire(alertFor('GGH'));
    await until(() => hook.received.length === 1);
    expect(timers.live()).toBe(1); // the attempt's timeout
    await alerts.close();
    await until(() => timers.live() === 0, 200);
    timers.stop();
    expect(await stored(row!.id)).toMatchObject({ delivery_status: 'pending', delivery_attempts: 1, last_error: 'attempt 1: no answer within 100 ms' });
    expect(hook.received).toHaveLength(1);
    await hook.close();
  });

  it('alerts fired after close() stay pending; deliverDue() at the next start delivers them, honouring the cool-down', async () => {
    const hook = await startWebhook([200]);
    const stopped = service({ webhook_url: hook.url }).alerts;
    const [sent] = await stopped.fire(alertFor('HHI'));
    await stopped.close();
    const [left] = await stopped.fire(alertFor('HHH'));
    expect(await stored(left!.id)).toMatchObject({ delivery_status: 'pending', delivery_attempts: 0 });
    // Rows of a process that died after one attempt each.
    const died = (symbol: string) =>
      testStore().repos.alert.save({ ...toRow(alertFor(symbol)[0]!), delivery_status: 'pending', delivery_attempts: 1, last_error: 'attempt 1: HTTP 502 Bad Gateway' });
    const midway = await died('HHJ');
    const alreadySent = await died('HHI');

    const { alerts } = service({ webhook_url: hook.url });
    // Earlier tests left alerts of their own pending in this database: only this test's (symbols HH*) are compared.
    const ours = (rows: AlertRow[]) => rows.filter((r) => r.symbol?.startsWith('HH'));
    expect(ours(await alerts.deliverDue()).map((r) => [r.id, r.delivery_status])).toEqual([
      [left!.id, 'pending'],
      [midway.id, 'pending'],
      [alreadySent.id, 'suppressed'],
    ]);
    await alerts.idle();
    expect(await stored(left!.id)).toMatchObject({ delivery_status: 'delivered', delivery_attempts: 1 });
    expect(await stored(midway.id)).toMatchObject({ delivery_status: 'delivered', delivery_attempts: 2 });
    expect(await stored(alreadySent.id)).toMatchObject({ delivery_status: 'suppressed', delivery_attempts: 1 });
    // Deliveries run side by side: arrival order is not fixed.
    const arrived = hook.received.filter((r) => (r.body as { symbol: string }).symbol.startsWith('HH')).map((r) => (r.body as { id: number }).id);
    expect(arrived.sort((a, b) => a - b)).toEqual([
      sent!.id,
      left!.id,
      midway.id,
    ]);
    expect(await alerts.deliverDue()).toEqual([]);
    await alerts.close();
    await hook.close();
  });

  it('a process without a webhook leaves the pending alerts of others alone', async () => {
    const hook = await startWebhook([503]);
    const withHook = service({ webhook_url: hook.url, retries: 0, backoff_ms: 1 }).alerts;
    const [row] = await withHook.fire(alertFor('III'));
    await withHook.close();
    const before = await stored(row!.id);
    expect(before).toMatchObject({ delivery_status: 'pending', delivery_attempts: 1 });

    const { alerts } = service({ webhook_url: undefined });
    expect(await alerts.deliverDue()).toEqual([]);
    await alerts.close();
    expect(await stored(row!.id)).toEqual(before);
    await hook.close();
  });

  it('raise(): a dedupe key raised within cooldown_hours on the host clock is not stored again', async () => {
    let clock = Date.parse('2019-06-03T21:00:00.000Z');
    const { alerts } = service({ webhook_url: undefined }, () => new Date(clock));
    const [first] = await alerts.raise(alertFor('JJJ'));
    expect(first!.created_at).toEqual(new Date('2019-06-03T21:00:00.000Z'));
    clock += 6 * 3_600_000 - 1;
    expect(await alerts.raise(alertFor('JJJ'))).toEqual([]);
    clock += 1;
    expect((await alerts.raise(alertFor('JJJ'))).map((r) => r.created_at)).toEqual([new Date('2019-06-04T03:00:00.000Z')]);
    await alerts.close();
  });
});
