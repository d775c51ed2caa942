/** Number formatting shared by the benchmark rows: figures rounded to what the noise of a shared machine allows. */

/** `x` with `digits` decimals, as text for a row's detail. */
export const fixed = (x: number, digits = 1): string => x.toFixed(digits);

/** `x` rounded to `digits` decimals, for a row's value. */
export const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** A fraction as a percentage, `n/a` for null. */
export const percent = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
