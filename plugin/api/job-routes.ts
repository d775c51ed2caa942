/**
 * A training job retried or cancelled over HTTP, as `lstm-signals queue --retry/--cancel` does: through the plugin's
 * queue, whichever engine it runs on, so a retried job reaches a worker (a cancelled running job stops at its
 * worker's next lease renewal).
 */
import type { Route } from '../host.js';
import type { LstmSignalsPlugin } from '../plugin.js';
import type { TrainingJobRow } from '../store/entities.js';
import { apiRoute, Conflict, NotFound } from './route.js';
import { inputOf } from './schemas.js';

const JOB_ID = inputOf({ id: { type: 'integer', minimum: 1 } }, ['id']);

/** 404 for no such job; the queue's refusal of this job (`training job ID …`: not failed, finished already, committing, an equal job active) is 409. */
async function changeJob(plugin: LstmSignalsPlugin, id: number, change: () => Promise<TrainingJobRow>): Promise<{ job: TrainingJobRow }> {
  if (!(await plugin.trainingJob(id))) throw new NotFound(`no training job ${id}`);
  try {
    return { job: await change() };
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (message.startsWith(`training job ${id} `)) throw new Conflict(message);
    throw error;
  }
}

/** `POST /jobs/:id/retry` and `POST /jobs/:id/cancel`: the queue's `retry(id)` and `cancel(id)`. */
export function jobActionRoutes(plugin: LstmSignalsPlugin): Route[] {
  return (['retry', 'cancel'] as const).map((action) =>
    apiRoute<Record<string, never>, { id: number }>({
      method: 'POST',
      path: `/jobs/:id/${action}`,
      access: 'admin',
      params: JOB_ID,
      handler: (_, { id }) => changeJob(plugin, id, () => (action === 'retry' ? plugin.retryTraining(id) : plugin.cancelTraining(id))),
    }),
  );
}
