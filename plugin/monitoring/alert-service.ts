/**
 * Stores alerts and delivers them to a webhook in the background, until they are delivered or too old.
 *
 * Every alert is a `lstm_alert` row before any delivery starts, so a webhook that is down, slow or
 * wrong never loses one and never blocks the caller. Delivery POSTs this JSON body:
 *
 *   { id, alert_type, symbol, severity, message, details, dedupe_key, created_at (ISO 8601),
 *     source: 'lstm-signals', text }
 *
 * `text` repeats the message prefixed with the severity, so chat webhooks (Slack, Mattermost) show it
 * as it is. Any 2xx answer is delivered; anything else, a refused connection or no answer within
 * `timeout_ms` is a failed attempt. After the n-th failed attempt the alert stays `pending` with
 * `next_attempt_at` = now + min(backoff_ms × 2^(n−1), max_backoff_ms). One delivery makes up to `retries`
 * retries in a row; after that, or when the service closes, the row waits for the next pass — `deliverDue()`,
 * which the active plugin runs on a timer and at each session close, and every process runs when it starts.
 * An alert still undelivered `max_age_hours` after it was raised becomes `expired` and raises an
 * `alert_expired` alert of its own (which, expiring in turn, raises nothing).
 *
 * Two clocks: the cool-down and the age count on the host's clock (`now`: simulated in a backtest), as does
 * created_at; the waits between attempts, their timeouts and next_attempt_at are real time.
 *
 * Several processes may share the table: before each attempt a process claims the row by moving its
 * next_attempt_at past the attempt (a conditional update only one process wins), so two processes never
 * send the same alert at once. A process killed during an attempt leaves the claim to run out; the next pass
 * of any process then sends it. Delivery is at least once: a process killed after the webhook accepted and
 * before the row says so sends it again; receivers can use `id` to recognise it.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { isAxiosError } from 'axios';
import { IsNull, LessThanOrEqual, MoreThan, Not } from 'typeorm';
import type { PluginConfig } from '../config.js';
import type { Logger } from '../host.js';
import type { AlertDeliveryStatus, AlertRow } from '../store/entities.js';
import type { Store } from '../store/store.js';
import type { AlertCandidate } from './alert-rules.js';

export interface AlertDeliverySettings {
  /** Undefined (or delivery off): alerts are stored with status 'no_webhook'. */
  webhook_url?: string;
  timeout_ms: number;
  retries: number;
  backoff_ms: number;
  max_backoff_ms: number;
  max_age_hours: number;
  cooldown_hours: number;
}

/** The delivery settings of `config`; `LSTM_ALERT_WEBHOOK` in `env` overrides its webhook_url; `alerts.delivery` off sends nothing. */
export function deliverySettingsFromConfig(config: PluginConfig, env: NodeJS.ProcessEnv = process.env): AlertDeliverySettings {
  const { timeout_ms, retries, backoff_ms, max_backoff_ms, max_age_hours, cooldown_hours, delivery } = config.alerts;
  const webhook_url = delivery ? env.LSTM_ALERT_WEBHOOK || config.webhook_url : undefined;
  return { webhook_url, timeout_ms, retries, backoff_ms, max_backoff_ms, max_age_hours, cooldown_hours };
}

export interface WebhookBody {
  id: number;
  alert_type: string;
  symbol: string | null;
  severity: string;
  message: string;
  details: Record<string, unknown> | null;
  dedupe_key: string;
  created_at: string;
  source: 'lstm-signals';
  text: string;
}

export function webhookBody(row: AlertRow): WebhookBody {
  return {
    id: row.id,
    alert_type: row.alert_type,
    symbol: row.symbol,
    severity: row.severity,
    message: row.message,
    details: row.details_json,
    dedupe_key: row.dedupe_key,
    created_at: row.created_at.toISOString(),
    source: 'lstm-signals',
    text: `[${row.severity}] ${row.message}`,
  };
}

const ALERT_EXPIRED = 'alert_expired';

/** The alert that says `row` was never delivered. */
function expiryAlert(row: AlertRow, maxAgeHours: number): AlertCandidate {
  const what = `alert ${row.id} (${row.alert_type}${row.symbol ? `, ${row.symbol}` : ''})`;
  return {
    alert_type: ALERT_EXPIRED,
    symbol: row.symbol,
    severity: 'critical',
    message: `${what} was not delivered within ${maxAgeHours} h after ${row.delivery_attempts} attempt(s)${row.last_error ? `; last: ${row.last_error}` : ''}: ${row.message}`,
    details: { alert_id: row.id, alert_type: row.alert_type, created_at: row.created_at.toISOString(), delivery_attempts: row.delivery_attempts, last_error: row.last_error },
    dedupe_key: `${ALERT_EXPIRED}:${row.id}`,
  };
}

/** Time a claimed attempt may take beyond timeout_ms (recording it) before another process may try the alert. */
const CLAIM_MARGIN_MS = 5_000;
/** A timer may fire a few milliseconds before the time it was set for; an attempt that early still counts as due. */
const TIMER_SLACK_MS = 50;

export interface AlertServiceOptions {
  /** The host's clock: created_at, delivered_at, the cool-down and max_age (default the wall clock). */
  now?: () => Date;
  /** Told of every row stored, fired or raised by an expiry (the plugin emits `lstm:alert`). */
  announce?: (row: AlertRow) => void;
}

export class AlertService {
  /** Deliveries under way, by alert id. */
  private readonly deliveries = new Map<number, Promise<void>>();
  /** Wakes every backoff wait early (with `false`); used by close(). */
  private readonly waits = new Set<(completed: boolean) => void>();
  // Without keep-alive no socket outlives its request, so nothing is left open after close().
  private readonly agents = { httpAgent: new http.Agent({ keepAlive: false }), httpsAgent: new https.Agent({ keepAlive: false }) };
  private closed = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Passes run one after another. */
  private pass: Promise<unknown> = Promise.resolve();
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    private readonly settings: AlertDeliverySettings,
    private readonly logger: Logger,
    private readonly options: AlertServiceOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Stores one row per candidate and returns them at once; delivery of the 'pending' ones runs in the
   * background (see idle()). After close() the rows stay 'pending' for the next process.
   */
  async fire(candidates: readonly AlertCandidate[]): Promise<AlertRow[]> {
    const rows: AlertRow[] = [];
    for (const candidate of candidates) {
      const status = await this.initialStatus(candidate.dedupe_key);
      const row = await this.store.repos.alert.save({
        alert_type: candidate.alert_type,
        symbol: candidate.symbol,
        severity: candidate.severity,
        message: candidate.message,
        details_json: candidate.details,
        dedupe_key: candidate.dedupe_key,
        delivery_status: status,
        delivery_attempts: 0,
        last_error: null,
        delivered_at: null,
        next_attempt_at: status === 'pending' ? new Date() : null,
        created_at: this.now(),
      });
      this.logger.info(`alert ${row.alert_type}: ${row.message}`, { alert_id: row.id, severity: row.severity, delivery_status: row.delivery_status });
      this.options.announce?.(row);
      rows.push(row);
    }
    for (const row of rows) if (row.delivery_status === 'pending') this.startDelivery(row);
    return rows;
  }

  /** Fires the candidates not already raised (same dedupe key) within the cool-down: a standing condition is reported once, not every session. */
  async raise(candidates: readonly AlertCandidate[]): Promise<AlertRow[]> {
    const since = new Date(this.now().getTime() - this.settings.cooldown_hours * 3_600_000);
    const fresh: AlertCandidate[] = [];
    for (const candidate of candidates) {
      if (!(await this.store.repos.alert.existsBy({ dedupe_key: candidate.dedupe_key, created_at: MoreThan(since) }))) fresh.push(candidate);
    }
    return this.fire(fresh);
  }

  /**
   * One pass: sends every pending alert whose next attempt is due — left by this process, an earlier one or
   * one that died — and expires those older than max_age_hours. Returns the rows it took up. A process without
   * a webhook leaves them alone (another process may have one).
   */
  deliverDue(): Promise<AlertRow[]> {
    const run = this.pass.then(() => this.takeUpDue());
    this.pass = run.catch(() => undefined);
    return run;
  }

  /** Runs deliverDue() now, then whenever the earliest pending alert is due and at least every max_backoff_ms, until close(). */
  start(): void {
    if (this.closed || this.started || !this.settings.webhook_url) return;
    this.started = true;
    this.schedule(0);
  }

  /** Resolves when every delivery started so far has ended (delivered, expired, or left pending for a later pass). */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.all(this.deliveries.values());
  }

  /**
   * No new attempts: a request in flight ends (within timeout_ms) and counts; a delivery waiting to retry
   * stops, its alert left 'pending' for the next process. Resolves when nothing is left running.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const wake of this.waits) wake(false);
    await this.pass;
    await this.idle();
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }

  private async takeUpDue(): Promise<AlertRow[]> {
    if (!this.settings.webhook_url || this.closed) return [];
    const rows = await this.store.repos.alert.find({
      where: [
        { delivery_status: 'pending', next_attempt_at: IsNull() },
        { delivery_status: 'pending', next_attempt_at: LessThanOrEqual(new Date(Date.now() + TIMER_SLACK_MS)) },
      ],
      order: { id: 'ASC' },
    });
    const due = rows.filter((row) => !this.deliveries.has(row.id));
    for (const row of due) {
      // The same alert delivered since (by a later row) is not sent again within the cool-down.
      const status = await this.initialStatus(row.dedupe_key, row.id);
      if (status === 'pending') this.startDelivery(row);
      else {
        row.delivery_status = status;
        await this.store.repos.alert.update({ id: row.id, delivery_status: 'pending' }, { delivery_status: status, next_attempt_at: null });
      }
    }
    return due;
  }

  /** Arms the timer for a pass in `ms`, unless one comes sooner (only once started). */
  private schedule(ms: number): void {
    if (!this.started || this.closed) return;
    const at = Date.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pass = this.pass
        .then(async () => {
          await this.takeUpDue();
          if (!this.closed) this.schedule(await this.untilNextDue());
        })
        .catch((error: unknown) => {
          this.logger.warn(`lstm-signals: re-sending alerts failed: ${error instanceof Error ? error.message : String(error)}`);
          this.schedule(this.settings.max_backoff_ms);
        });
    }, ms);
  }

  /** Milliseconds until the earliest pending alert is due, at most max_backoff_ms (other processes add rows too). */
  private async untilNextDue(): Promise<number> {
    const next = await this.store.repos.alert.findOne({
      where: { delivery_status: 'pending', next_attempt_at: Not(IsNull()) },
      order: { next_attempt_at: 'ASC' },
      select: { id: true, next_attempt_at: true },
    });
    const wait = next?.next_attempt_at ? next.next_attempt_at.getTime() - Date.now() : this.settings.max_backoff_ms;
    return Math.min(this.settings.max_backoff_ms, Math.max(0, wait));
  }

  private async initialStatus(dedupeKey: string, exceptId?: number): Promise<AlertDeliveryStatus> {
    if (!this.settings.webhook_url) return 'no_webhook';
    const since = new Date(this.now().getTime() - this.settings.cooldown_hours * 3_600_000);
    const recent = await this.store.repos.alert.findOne({
      where: { dedupe_key: dedupeKey, delivery_status: 'delivered', delivered_at: MoreThan(since), ...(exceptId !== undefined && { id: Not(exceptId) }) },
      select: { id: true },
    });
    return recent ? 'suppressed' : 'pending';
  }

  private startDelivery(row: AlertRow): void {
    if (this.closed) return;
    const delivery = this.deliver(row)
      .catch((error: unknown) => this.logger.error(`alert ${row.id}: delivery could not be recorded`, { error: String(error) }))
      .finally(() => this.deliveries.delete(row.id));
    this.deliveries.set(row.id, delivery);
  }

  /** The wait after the n-th failed attempt. */
  private backoff(failedAttempts: number): number {
    return Math.min(this.settings.max_backoff_ms, this.settings.backoff_ms * 2 ** (failedAttempts - 1));
  }

  private async deliver(row: AlertRow): Promise<void> {
    const body = webhookBody(row);
    const repo = this.store.repos.alert;
    for (let retry = 0; ; retry++) {
      if (this.now().getTime() - row.created_at.getTime() >= this.settings.max_age_hours * 3_600_000) return this.expire(row);
      if (!(await this.claim(row))) return; // another process is trying it
      const error = await this.post(this.settings.webhook_url!, body);
      const attempts = row.delivery_attempts + 1;
      row.delivery_attempts = attempts;
      if (error === undefined) {
        await repo.update(row.id, { delivery_status: 'delivered', delivery_attempts: attempts, delivered_at: this.now(), next_attempt_at: null });
        this.logger.info(`alert ${row.id} delivered`, { attempts });
        return;
      }
      const wait = this.backoff(attempts);
      row.last_error = `attempt ${attempts}: ${error}`;
      row.next_attempt_at = new Date(Date.now() + wait);
      this.logger.warn(`alert ${row.id}: webhook ${row.last_error}`);
      await repo.update(row.id, { delivery_attempts: attempts, last_error: row.last_error, next_attempt_at: row.next_attempt_at });
      // Left pending: the next pass (this process's timer, or the next process) tries it when it is due.
      if (retry === this.settings.retries || !(await this.wait(wait))) return this.schedule(wait);
    }
  }

  /** Takes the row for one attempt: only one process moves a due next_attempt_at past the attempt. */
  private async claim(row: AlertRow): Promise<boolean> {
    const until = new Date(Date.now() + this.settings.timeout_ms + CLAIM_MARGIN_MS);
    const due = new Date(Date.now() + TIMER_SLACK_MS);
    const { affected } = await this.store.repos.alert.update(
      { id: row.id, delivery_status: 'pending', next_attempt_at: row.next_attempt_at === null ? IsNull() : LessThanOrEqual(due) },
      { next_attempt_at: until },
    );
    return affected === 1;
  }

  private async expire(row: AlertRow): Promise<void> {
    const { affected } = await this.store.repos.alert.update({ id: row.id, delivery_status: 'pending' }, { delivery_status: 'expired', next_attempt_at: null });
    if (affected !== 1) return;
    this.logger.error(`alert ${row.id} expired: not delivered within ${this.settings.max_age_hours} h`, { last_error: row.last_error });
    // An expiry alert that expires in turn says nothing new: the table keeps both.
    if (row.alert_type !== ALERT_EXPIRED) await this.fire([expiryAlert({ ...row, delivery_status: 'expired' }, this.settings.max_age_hours)]);
  }

  /** One attempt; undefined when the webhook answered 2xx, else what went wrong. */
  private async post(url: string, body: WebhookBody): Promise<string | undefined> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.settings.timeout_ms);
    try {
      await axios.post(url, body, { ...this.agents, signal: controller.signal, maxRedirects: 0 });
      return undefined;
    } catch (error) {
      if (controller.signal.aborted) return `no answer within ${this.settings.timeout_ms} ms`;
      if (isAxiosError(error) && error.response) return `HTTP ${error.response.status} ${error.response.statusText}`.trimEnd();
      return error instanceof Error ? error.message || (isAxiosError(error) && error.code) || error.name : String(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves true after `ms`, or false at once when the service is (or gets) closed. */
  private wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (completed: boolean) => {
        clearTimeout(timer);
        this.waits.delete(wake);
        resolve(completed);
      };
      const timer = setTimeout(() => wake(true), ms);
      this.waits.add(wake);
    });
  }
}
