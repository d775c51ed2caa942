/**
 * The standard normal distribution function Φ(z) = P(Z ≤ z), by Hart's rational approximation (as given
 * by G. West, "Better approximations to cumulative normal functions", 2005): absolute error about 1e-14,
 * relative error below 1e-8 far in the tails, exactly 0.5 at 0 and symmetric, Φ(−z) = 1 − Φ(z).
 */
export function normalCdf(z: number): number {
  const x = Math.abs(z);
  // Beyond 37 standard deviations the tail is below the smallest double.
  let tail = 0;
  if (x <= 37) {
    const density = Math.exp((-x * x) / 2);
    if (x < 7.07106781186547) {
      const numerator = horner(x, [
        3.52624965998911e-2, 0.700383064443688, 6.37396220353165, 33.912866078383, 112.079291497871,
        221.213596169931, 220.206867912376,
      ]);
      const denominator = horner(x, [
        8.83883476483184e-2, 1.75566716318264, 16.064177579207, 86.7807322029461, 296.564248779674,
        637.333633378831, 793.826512519948, 440.413735824752,
      ]);
      tail = (density * numerator) / denominator;
    } else {
      // Far tail: a continued fraction of the Mills ratio.
      const fraction = x + 1 / (x + 2 / (x + 3 / (x + 4 / (x + 0.65))));
      tail = density / fraction / 2.506628274631;
    }
  }
  return z > 0 ? 1 - tail : tail;
}

/** Polynomial with `coefficients` from the highest power down, evaluated at x. */
function horner(x: number, coefficients: readonly number[]): number {
  return coefficients.reduce((sum, c) => sum * x + c, 0);
}
