/**
 * Stores alerts and delivers them to a webhook in the background.
 *
 * Every alert is a `lstm_alert` row before any delivery starts, so a webhook that is down, slow or
 * wrong never loses one and never blocks the caller. Delivery POSTs this JSON body:
 *
 *   { id, alert_type, symbol, severity, message, details, dedupe_key, created_at (ISO 8601),
 *     source: 'lstm-signals', text }
 *
 * `text` repeats the message prefixed with the severity, so chat webhooks (Slack, Mattermost) show it
 * as it is. Any 2xx answer is delivered; anything else, a refused connection or no answer within
 * `timeout_ms` is a failed attempt, retried after backoff_ms, 2 × backoff_ms, 4 × backoff_ms, …
 * Each attempt counts in delivery_attempts; last_error keeps the latest failed one, also once a retry delivered.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { isAxiosError } from 'axios';
import { MoreThan } from 'typeorm';
import type { PluginConfig } from '../config.js';
import type { Logger } from '../host.js';
import type { AlertDeliveryStatus, AlertRow } from '../store/entities.js';
import type { Store } from '../store/store.js';
import type { AlertCandidate } from './alert-rules.js';

export interface AlertDeliverySettings {
  /** Undefined: alerts are stored with status 'no_webhook'. */
  webhook_url?: string;
  timeout_ms: number;
  retries: number;
  backoff_ms: number;
  cooldown_hours: number;
}

/** The delivery settings of `config`; `LSTM_ALERT_WEBHOOK` in `env` overrides its webhook_url. */
export function deliverySettingsFromConfig(config: PluginConfig, env: NodeJS.ProcessEnv = process.env): AlertDeliverySettings {
  const { timeout_ms, retries, backoff_ms, cooldown_hours } = config.alerts;
  return { webhook_url: env.LSTM_ALERT_WEBHOOK || config.webhook_url, timeout_ms, retries, backoff_ms, cooldown_hours };
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

const CLOSED = 'retries abandoned: alert service closed';

export class AlertService {
  /** Deliveries under way, by alert id. */
  private readonly deliveries = new Map<number, Promise<void>>();
  /** Wakes every backoff wait early (with `false`); used by close(). */
  private readonly waits = new Set<(completed: boolean) => void>();
  // Without keep-alive no socket outlives its request, so nothing is left open after close().
  private readonly agents = { httpAgent: new http.Agent({ keepAlive: false }), httpsAgent: new https.Agent({ keepAlive: false }) };
  private closed = false;

  /** `now` decides the cool-down and stamps delivered_at (the cool-down's reference); retries and timeouts use real time. */
  constructor(
    private readonly store: Store,
    private readonly settings: AlertDeliverySettings,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Stores one row per candidate and returns them at once; delivery of the 'pending' ones runs in the
   * background (see idle()). After close() the rows stay 'pending' for redeliverPending() at the next start.
   */
  async fire(candidates: readonly AlertCandidate[]): Promise<AlertRow[]> {
    const rows: AlertRow[] = [];
    for (const candidate of candidates) {
      const row = await this.store.repos.alert.save({
        alert_type: candidate.alert_type,
        symbol: candidate.symbol,
        severity: candidate.severity,
        message: candidate.message,
        details_json: candidate.details,
        dedupe_key: candidate.dedupe_key,
        delivery_status: await this.initialStatus(candidate.dedupe_key),
        delivery_attempts: 0,
        last_error: null,
        delivered_at: null,
      });
      this.logger.info(`alert ${row.alert_type}: ${row.message}`, { alert_id: row.id, severity: row.severity, delivery_status: row.delivery_status });
      rows.push(row);
    }
    for (const row of rows) if (row.delivery_status === 'pending') this.startDelivery(row);
    return rows;
  }

  /**
   * Delivers the rows left 'pending' by a process that stopped mid-delivery (call it at start-up), with the
   * same cool-down and a fresh set of retries. Returns them with the status each now has. Rows this service
   * is delivering are skipped; another process delivering at the same time is not known, so one process
   * (the one that owns the webhook) should call it.
   */
  async redeliverPending(): Promise<AlertRow[]> {
    const rows = await this.store.repos.alert.find({ where: { delivery_status: 'pending' }, order: { id: 'ASC' } });
    const waiting = rows.filter((row) => !this.deliveries.has(row.id));
    for (const row of waiting) {
      row.delivery_status = await this.initialStatus(row.dedupe_key);
      if (row.delivery_status === 'pending') this.startDelivery(row);
      else await this.store.repos.alert.update(row.id, { delivery_status: row.delivery_status });
    }
    return waiting;
  }

  /** Resolves when every delivery started so far has finished (delivered or failed). */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.all(this.deliveries.values());
  }

  /**
   * No new attempts: a request in flight ends (within timeout_ms) and counts; a delivery waiting to retry
   * is recorded 'failed' with a last_error that says so. Resolves when nothing is left running.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.waits) wake(false);
    await this.idle();
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }

  private async initialStatus(dedupeKey: string): Promise<AlertDeliveryStatus> {
    if (!this.settings.webhook_url) return 'no_webhook';
    const since = new Date(this.now().getTime() - this.settings.cooldown_hours * 3_600_000);
    const recent = await this.store.repos.alert.findOne({
      where: { dedupe_key: dedupeKey, delivery_status: 'delivered', delivered_at: MoreThan(since) },
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

  private async deliver(row: AlertRow): Promise<void> {
    const url = this.settings.webhook_url!;
    const body = webhookBody(row);
    const repo = this.store.repos.alert;
    let attempts = row.delivery_attempts;
    for (let retry = 0; ; retry++) {
      attempts++;
      const error = await this.post(url, body);
      if (error === undefined) {
        await repo.update(row.id, { delivery_status: 'delivered', delivery_attempts: attempts, delivered_at: this.now() });
        this.logger.info(`alert ${row.id} delivered`, { attempts });
        return;
      }
      const lastError = `attempt ${attempts}: ${error}`;
      this.logger.warn(`alert ${row.id}: webhook ${lastError}`);
      if (retry === this.settings.retries || this.closed) {
        await repo.update(row.id, {
          delivery_status: 'failed',
          delivery_attempts: attempts,
          last_error: retry === this.settings.retries ? lastError : `${lastError}; ${CLOSED}`,
        });
        return;
      }
      await repo.update(row.id, { delivery_attempts: attempts, last_error: lastError });
      if (!(await this.wait(this.settings.backoff_ms * 2 ** retry))) {
        await repo.update(row.id, { delivery_status: 'failed', last_error: `${lastError}; ${CLOSED}` });
        return;
      }
    }
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
