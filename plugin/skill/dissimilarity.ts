/**
 * How far today's features lie from what a model was trained on: a dissimilarity index after Meyer &
 * Pebesma (2021, "Predicting into unknown space?"): the Euclidean distance, in the model's scaled feature
 * space, from today's feature row to the nearest training row, divided by the mean distance between
 * training rows. 0 is a training row exactly; 1 is as far from every training row as training rows lie
 * from each other on average. A model has no evidence about a market it has never seen.
 */

export interface DissimilarityReference {
  /** Scaled feature rows of the training sessions (an even subsample), rounded to 4 decimals to keep the JSON small. */
  rows: number[][];
  /** Mean Euclidean distance between two different reference rows. */
  mean_distance: number;
}

/** Enough rows to cover the training period's states; each prediction compares against all of them. */
export const MAX_REFERENCE_ROWS = 400;

const distance = (a: readonly number[], b: readonly number[]) => Math.sqrt(a.reduce((sum, x, j) => sum + (x - b[j]!) ** 2, 0));

/** The reference of the scaled training rows (in session order), subsampled evenly to at most `maxRows`. */
export function dissimilarityReference(rows: readonly (readonly number[])[], maxRows = MAX_REFERENCE_ROWS): DissimilarityReference {
  if (rows.length < 2) throw new RangeError(`a dissimilarity reference needs at least 2 training rows, got ${rows.length}`);
  const step = Math.max(1, rows.length / maxRows);
  const kept: number[][] = [];
  for (let k = 0; Math.floor(k * step) < rows.length && kept.length < maxRows; k++) {
    kept.push(rows[Math.floor(k * step)]!.map((x) => Math.round(x * 1e4) / 1e4));
  }
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < kept.length; i++) {
    for (let j = i + 1; j < kept.length; j++) {
      sum += distance(kept[i]!, kept[j]!);
      pairs++;
    }
  }
  return { rows: kept, mean_distance: sum / pairs };
}

/** Distance from `row` to the nearest reference row over the reference's mean distance. */
export function dissimilarity(row: readonly number[], reference: DissimilarityReference): number {
  const nearest = Math.min(...reference.rows.map((r) => distance(row, r)));
  return reference.mean_distance > 0 ? nearest / reference.mean_distance : nearest === 0 ? 0 : Number.POSITIVE_INFINITY;
}
