/** Bars, predictions and their outcomes over HTTP: coverage, predict now, the latest signals, accuracy backfill, calibration. */
import type { Route } from '../host.js';
import type { LstmSignalsPlugin } from '../plugin.js';
import { apiRoute, requireSymbol } from './route.js';
import { DATE, FLAG, inputOf, SYMBOL } from './schemas.js';

export function signalRoutes(plugin: LstmSignalsPlugin): Route[] {
  return [
    apiRoute({
      method: 'GET',
      path: '/bars',
      access: 'public',
      handler: async () => ({ symbols: await plugin.barCoverage() }),
    }),
    apiRoute<{ symbol: string; use_fallback?: boolean; trigger_train_async: boolean }>({
      method: 'GET',
      path: '/predict',
      // It writes the prediction log (and, asked to, queues a training).
      access: 'admin',
      input: inputOf({ symbol: SYMBOL, use_fallback: FLAG, trigger_train_async: { ...FLAG, default: false } }, ['symbol']),
      async handler({ symbol, use_fallback, trigger_train_async }) {
        await requireSymbol(plugin, symbol);
        const { forecast, signal, logged, created } = await plugin.predict(symbol, { useFallback: use_fallback });
        // Records the trigger decision and queues its training; the training itself is not awaited.
        const [triggerCheck] = trigger_train_async ? await plugin.checkTriggers({ symbol, run: true }) : [];
        return { prediction_set: logged.prediction_set, prediction_id: logged.id, created, signal, forecast, ...(triggerCheck && { trigger_check: triggerCheck }) };
      },
    }),
    apiRoute({
      method: 'GET',
      path: '/signals',
      access: 'public',
      handler: async () => ({
        prediction_set: plugin.config.prediction_set,
        signals: (await plugin.latestPredictions()).map((row) => ({ prediction_id: row.id, logged_at: row.created_at, signal: row.signal_json })),
      }),
    }),
    apiRoute<{ symbol: string; as_of_date?: string }>({
      method: 'POST',
      path: '/update-accuracy',
      access: 'admin',
      input: inputOf({ symbol: SYMBOL, as_of_date: DATE }, ['symbol']),
      async handler({ symbol, as_of_date }) {
        await requireSymbol(plugin, symbol);
        return plugin.updateAccuracy(symbol, as_of_date, plugin.config.prediction_set);
      },
    }),
    apiRoute({
      method: 'GET',
      path: '/calibration',
      access: 'public',
      handler: () => plugin.calibration(),
    }),
  ];
}
