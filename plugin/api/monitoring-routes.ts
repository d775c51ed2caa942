/** Monitoring over HTTP: status, skill against the baselines, the decay check, alerts, the training triggers. */
import type { Route } from '../host.js';
import type { LstmSignalsPlugin } from '../plugin.js';
import { apiRoute, requireSymbol } from './route.js';
import { FLAG, inputOf, NAME, SYMBOL } from './schemas.js';

export function monitoringRoutes(plugin: LstmSignalsPlugin): Route[] {
  return [
    apiRoute({
      method: 'GET',
      path: '/monitoring',
      access: 'public',
      handler: () => plugin.monitoringStatus(),
    }),
    apiRoute<{ symbol: string; set?: string }>({
      method: 'GET',
      path: '/skill',
      access: 'public',
      input: inputOf({ symbol: SYMBOL, set: NAME }, ['symbol']),
      async handler({ symbol, set }) {
        await requireSymbol(plugin, symbol);
        return plugin.skill(symbol, set);
      },
    }),
    apiRoute<{ symbol: string; threshold?: number; n_recent?: number; log: boolean }>({
      method: 'GET',
      path: '/performance-decay',
      // `log` stores the check; the read-only view of decay is in GET /monitoring.
      access: 'admin',
      input: inputOf({ symbol: SYMBOL, threshold: { type: 'number', minimum: 1 }, n_recent: { type: 'integer', minimum: 1 }, log: { ...FLAG, default: false } }, ['symbol']),
      async handler({ symbol, threshold, n_recent, log }) {
        await requireSymbol(plugin, symbol);
        return { symbol, ...(await plugin.detectDecay(symbol, { multiplier: threshold, nRecent: n_recent, log })) };
      },
    }),
    apiRoute<{ fire: boolean }>({
      method: 'POST',
      path: '/alerts',
      access: 'admin',
      input: inputOf({ fire: { ...FLAG, default: false } }),
      // Firing stores the alerts and answers at once; webhook delivery goes on in the background.
      handler: ({ fire }) => plugin.alerts({ fire }),
    }),
    apiRoute<{ symbol?: string; run: boolean }>({
      method: 'POST',
      path: '/check-triggers',
      access: 'admin',
      input: inputOf({ symbol: SYMBOL, run: { ...FLAG, default: false } }),
      async handler({ symbol, run }) {
        if (symbol) await requireSymbol(plugin, symbol);
        // With `run`, the trainings are queued, not awaited: GET /jobs/:id follows each `job_id`.
        return { checks: await plugin.checkTriggers({ symbol, run }) };
      },
    }),
  ];
}
