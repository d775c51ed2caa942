/**
 * The real training procedures at toy size, for tests that train many times. A toy network shows no skill, so
 * the skill gate is off here (the original deploy rule), and ARIMA (0.1 s a session) is not among the baselines:
 * these tests are about the machinery. The gate and the baselines have their own tests, with networks that learn.
 */
import type { PluginConfigInput } from '../../plugin/index.js';

export const TINY_TRAINING: PluginConfigInput['training'] = {
  param_grid: { lr: [0.003], hidden: [4], epochs: [1] },
  fast_params: { lr: 0.003, hidden: 4, epochs: 1 },
  batch_size: 128,
  holdout_sessions: 20,
  incremental_sessions: 60,
  incremental_epochs: 1,
  importance_repeats: 0,
  skill_gate: false,
  arima_baseline: false,
};
