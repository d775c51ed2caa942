/** The plugin's HTTP routes, framework-neutral; the host serves them. */
import type { Route } from './host.js';
import type { BarStore } from './store/bar-store.js';

export function buildRoutes(deps: { bars: BarStore }): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/lstm/bars',
      access: 'public',
      handler: async () => ({ status: 200, body: { symbols: await deps.bars.coverage() } }),
    },
  ];
}
