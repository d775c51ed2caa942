/**
 * The suite's global set-up: build dist/ when a source is newer than it (the CLI tests run the compiled package),
 * and say once which suites are skipped for want of a service — or, in CI, refuse to run without them.
 */
import { build } from '../../scripts/build.js';
import { IN_CI, missingServices } from './services.js';

export default function setup(): void {
  const missing = missingServices();
  if (IN_CI && missing.length > 0) throw new Error(`CI=true requires every service the suites use: ${missing.join('; ')}`);
  for (const line of missing) console.warn(`[lstm-signals tests] ${line}`);
  build({ ifStale: true });
}
