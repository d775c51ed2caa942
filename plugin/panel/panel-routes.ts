/**
 * The `/lstm` admin panel: static HTML, one vanilla JS module and a stylesheet, served by the plugin's
 * own routes with no build step. ECharts comes from the installed package, so the panel works offline
 * and its version is the one package-lock.json pins.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Panel, Route, RouteResponse } from '../host.js';

export const PANEL: Panel = { id: 'lstm', title: 'LSTM signals', path: '/lstm' };

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

/** The only files `/lstm/assets/:file` serves: a name maps to a fixed path, so no request can reach another file. */
const ASSETS: Record<string, { path: string; contentType: string }> = {
  'panel.js': { path: `${STATIC_DIR}panel.js`, contentType: 'text/javascript; charset=utf-8' },
  'panel.css': { path: `${STATIC_DIR}panel.css`, contentType: 'text/css; charset=utf-8' },
  'echarts.min.js': { path: createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'), contentType: 'text/javascript; charset=utf-8' },
};

/**
 * The page's Content-Security-Policy: its scripts, stylesheet and API calls from its own origin only, no inline
 * script, no plugin, no framing, no form posted anywhere. Style attributes stay allowed: ECharts lays out its
 * tooltips with them (scripts cannot be injected through a style attribute).
 */
export const PANEL_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

async function serveFile(path: string, contentType: string, headers?: Record<string, string>): Promise<RouteResponse> {
  return { status: 200, contentType, body: await readFile(path, 'utf8'), headers };
}

export function panelRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: PANEL.path,
      access: 'public',
      handler: () => serveFile(`${STATIC_DIR}index.html`, 'text/html; charset=utf-8', { 'content-security-policy': PANEL_POLICY }),
    },
    {
      method: 'GET',
      path: `${PANEL.path}/assets/:file`,
      access: 'public',
      handler: async ({ params }) => {
        const asset = Object.hasOwn(ASSETS, params.file ?? '') ? ASSETS[params.file!] : undefined;
        if (!asset) return { status: 404, body: { error: `no panel asset ${params.file}` } };
        return serveFile(asset.path, asset.contentType);
      },
    },
  ];
}
