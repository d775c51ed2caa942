/**
 * A separate process that fires one alert and keeps retrying its delivery, for the kill -9 tests:
 * `node --import tsx alert-process.ts DB_URL WEBHOOK_URL`. Prints `fired ID` once the alert is stored,
 * then retries every 50 ms until killed.
 */
import { AlertService } from '../../plugin/monitoring/alert-service.js';
import { Store } from '../../plugin/store/store.js';

const [url, webhook] = process.argv.slice(2);
const store = await Store.open({ url });
const quiet = () => {};
const alerts = new AlertService(
  store,
  { webhook_url: webhook, timeout_ms: 2000, retries: 1_000_000, backoff_ms: 50, max_backoff_ms: 50, max_age_hours: 24, cooldown_hours: 0 },
  { debug: quiet, info: quiet, warn: quiet, error: quiet },
);
const [row] = await alerts.fire([
  { alert_type: 'training_failure_count', symbol: 'KILL', severity: 'critical', message: 'KILL: 3 training failures', details: {}, dedupe_key: 'training_failure_count:KILL' },
]);
console.log(`fired ${row!.id}`);
await alerts.idle();
