/** Training and the model registry over HTTP: queue a training and follow its job, runs, versions, rollback, plot data, the spec. */
import type { Route } from '../host.js';
import type { LstmSignalsPlugin } from '../plugin.js';
import { trainingSpec } from '../training/spec.js';
import type { TrainingMode } from '../training/trainer.js';
import { jobActionRoutes } from './job-routes.js';
import { API_PREFIX, apiRoute, NotFound, requireSymbol } from './route.js';
import { DATE, FLAG, inputOf, SYMBOL } from './schemas.js';
import { InputError } from './validation.js';

interface TrainInput {
  symbol: string;
  start?: string;
  end?: string;
  do_cv_tune?: boolean;
  /** Accepted for the original API's callers: permutation importance is computed per `training.importance_repeats`. */
  do_shap?: boolean;
  /** Accepted for the original API's callers: GET /plot-data computes the plot of the current model on request. */
  do_plot?: boolean;
  fast_training?: boolean;
}

/** The original API's flags as a mode: fast_training, or no CV tuning, is fast; otherwise the full CV grid. */
export function trainingModeOf(flags: Pick<TrainInput, 'do_cv_tune' | 'fast_training'>): TrainingMode {
  return flags.fast_training || flags.do_cv_tune === false ? 'fast' : 'full';
}

export function modelRoutes(plugin: LstmSignalsPlugin): Route[] {
  return [
    apiRoute<TrainInput>({
      method: 'POST',
      path: '/train',
      access: 'admin',
      status: 202,
      input: inputOf({ symbol: SYMBOL, start: DATE, end: DATE, do_cv_tune: FLAG, do_shap: FLAG, do_plot: FLAG, fast_training: FLAG }, ['symbol']),
      async handler({ symbol, start, end, ...flags }) {
        if (start && end && end < start) throw new InputError(`end: must not be before start (${start})`);
        await requireSymbol(plugin, symbol);
        // Training takes minutes to hours: it is queued, and GET /jobs/:id follows it.
        const job = await plugin.enqueueTraining({ symbol, mode: trainingModeOf(flags), trigger: 'manual', start, end });
        return { job, status_url: `${API_PREFIX}/jobs/${job.id}` };
      },
    }),
    apiRoute({
      method: 'GET',
      path: '/jobs',
      access: 'public',
      // Every process's jobs as the database holds them: running (worker, attempts, progress), queued, the last finished.
      handler: () => plugin.queueState(),
    }),
    apiRoute<Record<string, never>, { id: number }>({
      method: 'GET',
      path: '/jobs/:id',
      access: 'public',
      params: inputOf({ id: { type: 'integer', minimum: 1 } }, ['id']),
      async handler(_, { id }) {
        const found = await plugin.trainingJob(id);
        if (!found) throw new NotFound(`no training job ${id}`);
        return found;
      },
    }),
    ...jobActionRoutes(plugin),
    apiRoute<{ symbol: string; years: 1 | 2 | 3 }>({
      method: 'GET',
      path: '/plot-data',
      access: 'public',
      input: inputOf({ symbol: SYMBOL, years: { type: 'integer', enum: [1, 2, 3], default: 1 } }, ['symbol']),
      async handler({ symbol, years }) {
        await requireSymbol(plugin, symbol);
        const plot = await plugin.plotData(symbol, years);
        if (!plot) throw new NotFound(`${symbol} has no current model`);
        return plot;
      },
    }),
    apiRoute<{ symbol?: string; limit: number }>({
      method: 'GET',
      path: '/training-runs',
      access: 'public',
      input: inputOf({ symbol: SYMBOL, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }),
      async handler({ symbol, limit }) {
        if (symbol) await requireSymbol(plugin, symbol);
        return { runs: await plugin.trainingRuns({ symbol, limit }) };
      },
    }),
    apiRoute<{ symbol?: string }>({
      method: 'GET',
      path: '/versions',
      access: 'public',
      input: inputOf({ symbol: SYMBOL }),
      async handler({ symbol }) {
        if (symbol) await requireSymbol(plugin, symbol);
        return { symbols: await plugin.modelVersions(symbol) };
      },
    }),
    apiRoute<{ symbol: string; version_id: string }>({
      method: 'POST',
      path: '/rollback',
      access: 'admin',
      input: inputOf({ symbol: SYMBOL, version_id: { type: 'string', minLength: 1, maxLength: 64 } }, ['symbol', 'version_id']),
      async handler({ symbol, version_id }) {
        await requireSymbol(plugin, symbol);
        const [kept] = await plugin.modelVersions(symbol);
        if (!kept?.versions.some((v) => v.version_id === version_id)) throw new NotFound(`${symbol} has no kept version ${version_id}`);
        return { symbol, version_id, ...(await plugin.rollback(symbol, version_id)) };
      },
    }),
    apiRoute({
      method: 'GET',
      path: '/training-spec',
      access: 'public',
      handler: async () => trainingSpec(),
    }),
  ];
}
