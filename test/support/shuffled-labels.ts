/** Training labels moved to other sessions in time (direction, return and path together): a model fitted on them has learnt nothing real. */
import type { Samples } from '../../plugin/features/windows.js';
import { mulberry32, permutation } from '../../plugin/model/random.js';
import type { Labels } from '../../plugin/training/fit.js';

export function shuffledLabels(samples: Samples, train: readonly number[], seed: number): Labels {
  const order = permutation(train.length, mulberry32(seed));
  const shuffled = { direction: [...samples.direction], magnitude: [...samples.magnitude], path: [...samples.path] };
  train.forEach((target, k) => {
    const source = train[order[k]!]!;
    shuffled.direction[target] = samples.direction[source]!;
    shuffled.magnitude[target] = samples.magnitude[source]!;
    shuffled.path[target] = samples.path[source]!;
  });
  return shuffled;
}
