/** The plugin's HTTP API, framework-neutral (plugin/api/): the host serves these routes, in this order (manifest.json lists the same). */
import { backtestRoutes } from './api/backtest-routes.js';
import { modelRoutes } from './api/model-routes.js';
import { monitoringRoutes } from './api/monitoring-routes.js';
import { signalRoutes } from './api/signal-routes.js';
import type { Route } from './host.js';
import { panelRoutes } from './panel/panel-routes.js';
import type { LstmSignalsPlugin } from './plugin.js';

export function buildRoutes(plugin: LstmSignalsPlugin): Route[] {
  return [...signalRoutes(plugin), ...modelRoutes(plugin), ...monitoringRoutes(plugin), ...backtestRoutes(plugin), ...panelRoutes()];
}
