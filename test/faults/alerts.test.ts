/**
 * Alerts under faults: a webhook that is down (refused, 500) for longer than a delivery's retries, a process
 * killed with SIGKILL while retrying, two processes re-sending the same table, and the CLI's exit code.
 * The webhook is a real local HTTP server; the databases are a SQLite file and a MariaDB/MySQL scratch database,
 * so separate processes share them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../plugin/host.js';
import type { AlertCandidate } from '../../plugin/monitoring/alert-rules.js';
import { AlertService, type AlertDeliverySettings } from '../../plugin/monitoring/alert-service.js';
import type { AlertRow } from '../../plugin/store/entities.js';
import { Store } from '../../plugin/store/store.js';
import { runCli } from '../support/cli.js';
import { sharedDatabases, useSharedDatabase } from '../support/shared-databases.js';
import { closedPort, startWebhook, until } from '../support/webhook.js';

const quiet = () => {};
const logger: Logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
const base: Omit<AlertDeliverySettings, 'webhook_url'> = { timeout_ms: 2000, retries: 2, backoff_ms: 20, max_backoff_ms: 80, max_age_hours: 24, cooldown_hours: 6 };

const alertFor = (symbol: string): AlertCandidate => ({
  alert_type: 'training_failure_count',
  symbol,
  severity: 'critical',
  message: `${symbol}: 3 training failures since the last successful training (alert at 3)`,
  details: { training_failures: 3 },
  dedupe_key: `training_failure_count:${symbol}`,
});

describe.each(sharedDatabases)('webhook down: alerts wait for it on $name', (db) => {
  const database = useSharedDatabase(db);
  let store: Store;
  beforeAll(() => void (store = database.store()));
  const stored = (id: number) => store.repos.alert.findOneByOrFail({ id });

  it('refused for longer than one delivery retries: pending with its next attempt time, then delivered exactly once when it is back', async () => {
    const port = await closedPort();
    const alerts = new AlertService(store, { ...base, webhook_url: `http://127.0.0.1:${port}/hook` }, logger);
    alerts.start();
    const [row] = await alerts.fire([alertFor('DOWN')]);
    // Well past the delivery's own 1 + 2 attempts: the timer keeps trying.
    await until(async () => (await stored(row!.id)).delivery_attempts >= 6);
    const waiting = await stored(row!.id);
    expect(waiting).toMatchObject({ delivery_status: 'pending', delivered_at: null, last_error: expect.stringMatching(/^attempt \d+: connect ECONNREFUSED/) });
    expect(waiting.next_attempt_at).toBeInstanceOf(Date);

    const hook = await startWebhook([200], port);
    await until(async () => (await stored(row!.id)).delivery_status === 'delivered');
    expect(await alerts.deliverDue()).toEqual([]);
    await alerts.close();
    expect(hook.accepted()).toEqual([row!.id]);
    expect(hook.received).toHaveLength(1);
    expect(await stored(row!.id)).toMatchObject({ delivery_status: 'delivered', next_attempt_at: null, delivered_at: expect.any(Date) });
    await hook.close();
  });

  it('answering 500 for longer than one delivery retries, then 200: every attempt counted, delivered exactly once', async () => {
    const hook = await startWebhook([500]);
    const alerts = new AlertService(store, { ...base, webhook_url: hook.url, retries: 1 }, logger);
    alerts.start();
    const [row] = await alerts.fire([alertFor('FIVE')]);
    await until(() => hook.received.length >= 5);
    expect(await stored(row!.id)).toMatchObject({ delivery_status: 'pending', last_error: expect.stringMatching(/^attempt \d+: HTTP 500 Internal Server Error$/) });
    hook.answer([200]);
    await until(async () => (await stored(row!.id)).delivery_status === 'delivered');
    await alerts.close();
    expect(hook.accepted()).toEqual([row!.id]);
    expect((await stored(row!.id)).delivery_attempts).toBe(hook.received.length);
    await hook.close();
  });

  it('an alert still undelivered at max_age_hours (host clock) expires and raises alert_expired; an expired alert_expired raises nothing', async () => {
    const port = await closedPort();
    let clock = Date.parse('2026-03-02T08:00:00.000Z');
    const alerts = new AlertService(store, { ...base, webhook_url: `http://127.0.0.1:${port}/hook`, retries: 0 }, logger, { now: () => new Date(clock) });
    const [row] = await alerts.fire([alertFor('OLD')]);
    await alerts.idle();
    expect(await stored(row!.id)).toMatchObject({ delivery_status: 'pending', delivery_attempts: 1 });

    clock += 24 * 3_600_000 - 1;
    await until(async () => (await stored(row!.id)).next_attempt_at!.getTime() <= Date.now());
    await alerts.deliverDue();
    await alerts.idle();
    expect(await stored(row!.id)).toMatchObject({ delivery_status: 'pending', delivery_attempts: 2 });

    clock += 1;
    await until(async () => (await stored(row!.id)).next_attempt_at!.getTime() <= Date.now());
    await alerts.deliverDue();
    await alerts.idle();
    // Expired without another attempt.
    expect(await stored(row!.id)).toMatchObject({ delivery_status: 'expired', delivery_attempts: 2, next_attempt_at: null });
    const expiry = await store.repos.alert.findOneByOrFail({ dedupe_key: `alert_expired:${row!.id}` });
    expect(expiry).toMatchObject({
      alert_type: 'alert_expired',
      symbol: 'OLD',
      severity: 'critical',
      delivery_status: 'pending',
      created_at: new Date('2026-03-03T08:00:00.000Z'),
      details_json: { alert_id: row!.id, alert_type: 'training_failure_count', delivery_attempts: 2, last_error: expect.stringMatching(/^attempt 2: connect ECONNREFUSED/) },
    });
    expect(expiry.message).toBe(
      `alert ${row!.id} (training_failure_count, OLD) was not delivered within 24 h after 2 attempt(s); last: ${expiry.details_json!.last_error as string}: OLD: 3 training failures since the last successful training (alert at 3)`,
    );

    // The expiry alert goes out like any other once the webhook is back.
    const hook = await startWebhook([200], port);
    await until(async () => (await stored(expiry.id)).next_attempt_at!.getTime() <= Date.now());
    await alerts.deliverDue();
    await alerts.idle();
    expect(hook.accepted()).toEqual([expiry.id]);
    await hook.close();

    // With the webhook down again, an expiry alert that expires in turn raises nothing further.
    const [other] = await alerts.fire([alertFor('OLDER')]);
    await alerts.idle();
    clock += 24 * 3_600_000;
    await alerts.deliverDue();
    await alerts.idle();
    const second = await store.repos.alert.findOneByOrFail({ dedupe_key: `alert_expired:${other!.id}` });
    clock += 24 * 3_600_000;
    await until(async () => (await stored(second.id)).next_attempt_at!.getTime() <= Date.now());
    await alerts.deliverDue();
    await alerts.idle();
    expect(await stored(second.id)).toMatchObject({ delivery_status: 'expired' });
    expect(await store.repos.alert.countBy({ alert_type: 'alert_expired' })).toBe(2);
    await alerts.close();
  });
});

/** Runs test/support/alert-process.ts in a child process; resolves with it once it has stored its alert. */
function startAlertProcess(url: string, webhook: string): Promise<{ id: number; kill: () => Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../support/alert-process.ts'), url, webhook], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const fired = /fired (\d+)/.exec(chunk.toString());
      if (fired) resolve({ id: Number(fired[1]), kill: () => (child.kill('SIGKILL'), exited) });
    });
    void exited.then((code) => reject(new Error(`alert process exited (${code}) before firing: ${stderr}`)));
  });
}

describe.each(sharedDatabases)('kill -9: a process killed while retrying on $name', (db) => {
  const database = useSharedDatabase(db);

  it('leaves its alert pending with the attempts it made; the next process delivers it once', async () => {
    const hook = await startWebhook([503]);
    const child = await startAlertProcess(database.url(), hook.url);
    await until(() => hook.received.length >= 3, 60_000, 'three refused attempts');
    await child.kill();
    const attemptsSeen = hook.received.length;

    const store = await Store.open({ url: database.url() });
    try {
      const left = await store.repos.alert.findOneByOrFail({ id: child.id });
      expect(left.delivery_status).toBe('pending');
      // The attempt in flight when it died may not be recorded: at most one short of what the webhook saw.
      expect(left.delivery_attempts).toBeGreaterThanOrEqual(attemptsSeen - 1);
      expect(left.delivery_attempts).toBeLessThanOrEqual(attemptsSeen);
      expect(left.next_attempt_at).toBeInstanceOf(Date);

      hook.answer([200]);
      const next = new AlertService(store, { ...base, webhook_url: hook.url }, logger);
      next.start();
      await until(async () => (await store.repos.alert.findOneByOrFail({ id: child.id })).delivery_status === 'delivered', 60_000, 'delivered');
      await next.close();
      expect(hook.accepted()).toEqual([child.id]);
    } finally {
      await store.close();
      await hook.close();
    }
  });
});

describe.each(sharedDatabases)('concurrent start: two processes re-send the same pending alerts on $name', (db) => {
  const database = useSharedDatabase(db);

  it('each alert reaches the webhook once', async () => {
    const hook = await startWebhook([200]);
    const [one, two] = [await Store.open({ url: database.url() }), await Store.open({ url: database.url() })];
    try {
      // Left pending by a process that stopped: due now.
      const rows: AlertRow[] = [];
      for (let i = 0; i < 12; i++) {
        const c = alertFor(`C${i}`);
        rows.push(
          await one.repos.alert.save({ ...c, details_json: c.details, delivery_status: 'pending', delivery_attempts: 1, last_error: 'attempt 1: HTTP 502 Bad Gateway', next_attempt_at: new Date() }),
        );
      }
      const [a, b] = [new AlertService(one, { ...base, webhook_url: hook.url }, logger), new AlertService(two, { ...base, webhook_url: hook.url }, logger)];
      await Promise.all([a.deliverDue(), b.deliverDue()]);
      await Promise.all([a.idle(), b.idle()]);
      await Promise.all([a.close(), b.close()]);
      expect(hook.accepted().sort((x, y) => x - y)).toEqual(rows.map((r) => r.id));
      expect(await one.repos.alert.countBy({ delivery_status: 'delivered' })).toBe(12);
    } finally {
      await one.close();
      await two.close();
      await hook.close();
    }
  });
});

describe('webhook down: alerts --fire', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'lstm-alerts-cli-'));
    await writeFile(path.join(cwd, 'config.json'), JSON.stringify({ alerts: { retries: 1, backoff_ms: 20, timeout_ms: 2000 } }));
    expect((await runCli(['ingest', '--db', 'sqlite:alerts.sqlite'], { cwd })).code).toBe(0);
  });
  afterAll(async () => rm(cwd, { recursive: true, force: true }));

  const fire = (webhook: string) => runCli(['alerts', '--fire', '--db', 'sqlite:alerts.sqlite', '--config', 'config.json'], { cwd, env: { LSTM_ALERT_WEBHOOK: webhook } });

  it('exits 1 while the webhook is down, the alert left pending; the next run delivers it and exits 0', async () => {
    const port = await closedPort();
    const down = await fire(`http://127.0.0.1:${port}/hook`);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('1 alert(s) not delivered');
    const { fired } = JSON.parse(down.stdout) as { fired: AlertRow[] };
    expect(fired.map((a) => [a.alert_type, a.symbol, a.delivery_status, a.delivery_attempts])).toEqual([['no_recent_training', 'SPX', 'pending', 2]]);

    const hook = await startWebhook([200], port);
    const up = await fire(hook.url);
    expect(up.code).toBe(0);
    const again = JSON.parse(up.stdout) as { fired: AlertRow[]; resent: AlertRow[] };
    expect(again.resent.map((a) => [a.id, a.delivery_status])).toEqual([[fired[0]!.id, 'delivered']]);
    // The same alert was just delivered: within the cool-down the new one is stored, not sent.
    expect(again.fired.map((a) => [a.alert_type, a.delivery_status])).toEqual([['no_recent_training', 'suppressed']]);
    expect(hook.accepted()).toEqual([fired[0]!.id]);
    await hook.close();
  });
});
