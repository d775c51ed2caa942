/**
 * Seeded synthetic daily bars for the benchmark universe. Daily log returns follow GARCH(1,1) around a
 * per-symbol annualised volatility (15–60%), so calm and turbulent spells alternate as in real series; the
 * open gaps from the previous close, high and low reach past the body by a volatility-scaled amount, and
 * volume swells on large moves. Not a market model: plausible inputs for the features and the network.
 */
import type { DailyBar } from '../../plugin/index.js';
import { gaussian, mulberry32 } from '../../plugin/model/random.js';

const TRADING_DAYS = 252;
/** GARCH(1,1) weights: α + β < 1 keeps the variance mean-reverting to the symbol's long-run level. */
const ALPHA = 0.08;
const BETA = 0.9;
/** Share of a day's move that happens overnight (open vs previous close). */
const GAP_SHARE = 0.25;

export interface SyntheticProfile {
  annualVol: number;
  /** Annual drift of the log price. */
  logDrift: number;
  startPrice: number;
  baseVolume: number;
}

const uniform = (random: () => number, low: number, high: number) => low + (high - low) * random();

function drawProfile(random: () => number): SyntheticProfile {
  return {
    annualVol: uniform(random, 0.15, 0.6),
    logDrift: uniform(random, -0.03, 0.12),
    startPrice: 10 ** uniform(random, 1, 2.7),
    baseVolume: Math.round(10 ** uniform(random, 5, 7.5)),
  };
}

/** Seven significant digits, as a data vendor would print them; never rounds a positive price to 0. */
const price = (x: number) => Number(x.toPrecision(7));

/** One symbol's bars on the given sessions; the same seed gives the same bars everywhere. `profile` overrides the drawn one. */
export function syntheticBars(symbol: string, sessions: readonly string[], seed: number, profile: Partial<SyntheticProfile> = {}): DailyBar[] {
  const random = mulberry32(seed);
  const { annualVol, logDrift, startPrice, baseVolume } = { ...drawProfile(random), ...profile };
  const longRunVariance = annualVol ** 2 / TRADING_DAYS;
  const omega = longRunVariance * (1 - ALPHA - BETA);
  let variance = longRunVariance;
  let previousClose = startPrice;
  return sessions.map((date) => {
    const sigma = Math.sqrt(variance);
    const shock = sigma * gaussian(random);
    const logReturn = logDrift / TRADING_DAYS + shock;
    const gap = GAP_SHARE * logReturn + 0.1 * sigma * gaussian(random);
    const open = price(previousClose * Math.exp(gap));
    const close = price(previousClose * Math.exp(logReturn));
    const high = price(Math.max(open, close) * Math.exp(0.5 * sigma * Math.abs(gaussian(random))));
    const low = price(Math.min(open, close) * Math.exp(-0.5 * sigma * Math.abs(gaussian(random))));
    const volume = Math.round(baseVolume * Math.exp(0.3 * gaussian(random)) * (1 + Math.abs(shock) / Math.sqrt(longRunVariance)));
    variance = omega + ALPHA * shock ** 2 + BETA * variance;
    previousClose = close;
    return { symbol, date, open, high: Math.max(high, open, close), low: Math.min(low, open, close), close, volume };
  });
}

/**
 * A series with a known edge: the prices of `syntheticBars`, but each session's volume carries a noisy view of
 * the next FORECAST_DAYS sessions' return — volume ∝ exp(0.5 · a_t) with a_t = edge · z_t + √(1 − edge²) · ε_t,
 * z_t the standardised forward return and ε_t fresh noise. The signal in `volume_norm` (and OBV, MFI) then
 * correlates `edge` with the forward return, so the best possible hit rate is 1/2 + arcsin(edge)/π (2/3 at
 * edge 0.5), and no price-only baseline can see it. With `edge` 0 and no drift (`profile.logDrift` 0) nothing can
 * be forecast at all: a drift makes the up-rate depend on the volatility (P(up) = Φ(μ√5 / σ)), a real if faint edge.
 */
export function knownEdgeBars(symbol: string, sessions: readonly string[], seed: number, edge: number, profile: Partial<SyntheticProfile> = {}, horizon = 5): DailyBar[] {
  const bars = syntheticBars(symbol, sessions, seed, profile);
  const random = mulberry32(seed ^ 0x5eed);
  const forward = bars.map((b, t) => (t + horizon < bars.length ? Math.log(bars[t + horizon]!.close / b.close) : 0));
  const sd = Math.sqrt(forward.reduce((sum, r) => sum + r * r, 0) / forward.length) || 1;
  const base = bars[0]!.volume;
  return bars.map((b, t) => {
    const view = edge * (forward[t]! / sd) + Math.sqrt(1 - edge * edge) * gaussian(random);
    return { ...b, volume: Math.max(1, Math.round(base * Math.exp(0.5 * view + 0.1 * gaussian(random)))) };
  });
}
