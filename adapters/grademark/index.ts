/**
 * Grademark backtests of lstm-swing's rules, reported as our trades (`lstm-signals/grademark`). grademark,
 * data-forge and chai (which grademark loads without declaring it) are optional peer dependencies: checked
 * here, before anything loads them, so a host without them gets one error naming what to install.
 */
import { createRequire } from 'node:module';

const PEERS = ['grademark', 'data-forge', 'chai'];
const resolve = createRequire(import.meta.url).resolve;
const missing = PEERS.filter((name) => {
  try {
    resolve(name);
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) {
  throw new Error(`lstm-signals/grademark needs the optional peer dependencies ${PEERS.join(', ')}; missing: ${missing.join(', ')}. Install them with: npm install ${PEERS.join(' ')}`);
}

export type { GrademarkRun } from './grademark-backtest.js';
export const { runGrademark } = await import('./grademark-backtest.js');
