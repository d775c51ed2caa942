/** The suite's global set-up: the CLI tests run the compiled package, so build dist/ when a source is newer than it. */
import { build } from '../../scripts/build.js';

export default function setup(): void {
  build({ ifStale: true });
}
