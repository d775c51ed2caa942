/** Grademark backtests of lstm-swing's rules, reported as our trades. */
export { runGrademark, type GrademarkRun } from './grademark-backtest.js';
