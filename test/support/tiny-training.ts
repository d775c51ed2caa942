/** The real training procedures at toy size, for tests that train many times. */
import type { PluginConfigInput } from '../../plugin/index.js';

export const TINY_TRAINING: PluginConfigInput['training'] = {
  param_grid: { lr: [0.003], hidden: [4], epochs: [1] },
  fast_params: { lr: 0.003, hidden: 4, epochs: 1 },
  batch_size: 128,
  holdout_sessions: 20,
  incremental_sessions: 60,
  incremental_epochs: 1,
  importance_repeats: 0,
};
