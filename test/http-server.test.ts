import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger, Route } from '../plugin/index.js';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { startHttpServer, type HttpServerOptions, type RunningHttpServer } from '../adapters/standalone/http-server.js';
import { BIN, runCli } from './support/cli.js';
import { SPX_CSV } from './support/spx.js';

const TOKEN = 'sesame';

function recordingLogger(): Logger & { lines: Array<[string, string, Record<string, unknown> | undefined]> } {
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push([level, message, fields]);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Routes that show what the server handed them, or answer in the ways a route can. */
const ROUTES: Route[] = [
  { method: 'GET', path: '/echo/:id/items/:item', access: 'public', handler: async ({ params, query }) => ({ status: 200, body: { params, query } }) },
  { method: 'POST', path: '/echo', access: 'public', handler: async ({ body, headers }) => ({ status: 201, body: { body, custom: headers['x-custom'] } }) },
  { method: 'POST', path: '/admin', access: 'admin', handler: async ({ body }) => ({ status: 200, body: { done: body } }) },
  { method: 'GET', path: '/admin', access: 'public', handler: async () => ({ status: 200, body: { read: true } }) },
  { method: 'GET', path: '/fail', access: 'public', handler: async () => Promise.reject(new Error('boom')) },
  { method: 'GET', path: '/page', access: 'public', handler: async () => ({ status: 200, contentType: 'text/html; charset=utf-8', body: '<h1>é</h1>' }) },
  { method: 'GET', path: '/bytes', access: 'public', handler: async () => ({ status: 200, contentType: 'application/octet-stream', body: Buffer.from([0, 1, 255]) }) },
  { method: 'GET', path: '/not-raw', access: 'public', handler: async () => ({ status: 200, contentType: 'text/plain', body: { an: 'object' } }) },
];

describe('the standalone HTTP server', () => {
  const servers: RunningHttpServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  async function serve(options: Partial<HttpServerOptions> = {}) {
    const logger = recordingLogger();
    const host = new StandaloneHost({ logger });
    for (const route of ROUTES) host.registerRoute(route);
    const server = await startHttpServer({ host, adminToken: TOKEN, ...options });
    servers.push(server);
    return { server, host, logger };
  }

  async function call(server: RunningHttpServer, method: string, route: string, init: { body?: string; headers?: Record<string, string> } = {}) {
    const response = await fetch(`${server.url}${route}`, { method, body: init.body, headers: init.headers });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined };
  }

  it('hands routes their decoded path parameters, query and JSON body', async () => {
    const { server } = await serve();
    const get = await call(server, 'GET', '/echo/a%20b/items/7?limit=5&flag=1&limit=6');
    expect(get).toMatchObject({ status: 200, json: { params: { id: 'a b', item: '7' }, query: { limit: '6', flag: '1' } } });
    expect(get.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(get.headers.get('cache-control')).toBe('no-store');

    const post = await call(server, 'POST', '/echo', { body: '{"symbol":"SPX","n":[1,2]}', headers: { 'content-type': 'application/json', 'x-custom': 'yes' } });
    expect(post).toMatchObject({ status: 201, json: { body: { symbol: 'SPX', n: [1, 2] }, custom: 'yes' } });
    // An empty body is an empty object, so a POST whose fields are all optional needs none.
    expect((await call(server, 'POST', '/echo')).json).toEqual({ body: {} });
  });

  it('answers 400 to malformed JSON or path encoding, and 413 to a body over the limit', async () => {
    const { server } = await serve({ maxBodyBytes: 100 });
    expect(await call(server, 'POST', '/echo', { body: '{"symbol":' })).toMatchObject({
      status: 400,
      json: { error: 'the request body is not JSON: Unexpected end of JSON input' },
    });
    expect(await call(server, 'GET', '/echo/%E0%A4%A/items/1')).toMatchObject({ status: 400, json: { error: 'malformed percent-encoding in the path: %E0%A4%A' } });
    expect(await call(server, 'POST', '/echo', { body: JSON.stringify({ text: 'x'.repeat(90) }) })).toMatchObject({
      status: 413,
      json: { error: 'the request body exceeds 100 bytes' },
    });
    expect(await call(server, 'POST', '/echo', { body: JSON.stringify({ text: 'x'.repeat(80) }) })).toMatchObject({ status: 201 });
    // Sent in chunks, with no Content-Length to refuse it by: counted as it arrives.
    const chunked = await fetch(`${server.url}/echo`, { method: 'POST', body: Readable.toWeb(Readable.from(['{"text":"', 'x'.repeat(60), 'x'.repeat(60), '"}'])) as ReadableStream, duplex: 'half' } as RequestInit);
    expect([chunked.status, await chunked.json()]).toEqual([413, { error: 'the request body exceeds 100 bytes' }]);
  });

  it('answers 404 to an unknown path and 405 to a known path with another method', async () => {
    const { server } = await serve();
    expect(await call(server, 'GET', '/nowhere')).toMatchObject({ status: 404, json: { error: 'no route GET /nowhere' } });
    expect(await call(server, 'GET', '/echo/1/items')).toMatchObject({ status: 404, json: { error: 'no route GET /echo/1/items' } });
    const wrong = await call(server, 'POST', '/fail');
    expect(wrong).toMatchObject({ status: 405, json: { error: 'POST is not allowed on /fail' } });
    expect(wrong.headers.get('allow')).toBe('GET');
  });

  it('answers 500 with the error of a route that throws, and logs it', async () => {
    const { server, logger } = await serve();
    expect(await call(server, 'GET', '/fail')).toMatchObject({ status: 500, json: { error: 'boom' } });
    expect(logger.lines.filter(([level]) => level === 'error')).toEqual([['error', 'http: GET /fail failed: boom', { stack: expect.stringContaining('Error: boom') }]]);
  });

  it('sends a response with a contentType as is: text or bytes; anything else is a 500', async () => {
    const { server, logger } = await serve();
    const page = await call(server, 'GET', '/page');
    expect([page.status, page.headers.get('content-type'), page.text]).toEqual([200, 'text/html; charset=utf-8', '<h1>é</h1>']);
    expect(page.headers.get('content-length')).toBe('11');
    const bytes = await fetch(`${server.url}/bytes`);
    expect([bytes.headers.get('content-type'), [...new Uint8Array(await bytes.arrayBuffer())]]).toEqual(['application/octet-stream', [0, 1, 255]]);
    expect(await call(server, 'GET', '/not-raw')).toMatchObject({
      status: 500,
      json: { error: 'GET /not-raw answered with contentType text/plain but a body that is neither a string nor a Buffer' },
    });
    expect(logger.lines.filter(([level]) => level === 'error')).toHaveLength(1);
  });

  it('requires the bearer token on admin routes only: 401 without it, 403 with a wrong one', async () => {
    const { server, logger } = await serve();
    const missing = await call(server, 'POST', '/admin', { body: '{}' });
    expect(missing).toMatchObject({ status: 401, json: { error: 'this route needs Authorization: Bearer <LSTM_ADMIN_TOKEN>' } });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(await call(server, 'POST', '/admin', { headers: { authorization: `Basic ${TOKEN}` } })).toMatchObject({ status: 401 });
    expect(await call(server, 'POST', '/admin', { headers: { authorization: 'Bearer sesame!' } })).toMatchObject({ status: 403, json: { error: 'the admin token is wrong' } });
    expect(await call(server, 'POST', '/admin', { body: '{"a":1}', headers: { authorization: `Bearer ${TOKEN}` } })).toMatchObject({ status: 200, json: { done: { a: 1 } } });
    expect(await call(server, 'GET', '/admin')).toMatchObject({ status: 200, json: { read: true } });
    expect(logger.lines).toEqual([['info', `http: listening on ${server.url}; admin routes need the bearer token`, undefined]]);
  });

  it('without a token, listens on 127.0.0.1 only, says so, and leaves admin routes open to local clients', async () => {
    await expect(serve({ adminToken: undefined, hostname: '0.0.0.0' })).rejects.toThrow(
      'refusing to listen on 0.0.0.0 without an admin token: set LSTM_ADMIN_TOKEN, or listen on 127.0.0.1',
    );
    const { server, logger } = await serve({ adminToken: '' });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(logger.lines).toEqual([['warn', `http: no LSTM_ADMIN_TOKEN set: listening on 127.0.0.1 only, admin routes open to local clients (${server.url})`, undefined]]);
    expect(await call(server, 'POST', '/admin', { body: '{"a":2}' })).toMatchObject({ status: 200, json: { done: { a: 2 } } });
    // A page of another site (or another port of this host) cannot drive the open admin routes through a browser.
    for (const site of ['cross-site', 'same-site']) {
      expect(await call(server, 'POST', '/admin', { headers: { 'sec-fetch-site': site } })).toMatchObject({ status: 403, json: { error: `admin routes refuse ${site} browser requests` } });
    }
    expect(await call(server, 'POST', '/admin', { headers: { 'sec-fetch-site': 'same-origin' } })).toMatchObject({ status: 200 });
    expect(await call(server, 'GET', '/admin', { headers: { 'sec-fetch-site': 'cross-site' } })).toMatchObject({ status: 200 });
    const anywhere = await serve({ hostname: '0.0.0.0' });
    expect(anywhere.server.url).toBe(`http://0.0.0.0:${anywhere.server.port}`);
  });

  it('serves the routes the host holds at each request', async () => {
    const { server, host } = await serve();
    const dispose = host.registerRoute({ method: 'GET', path: '/late', access: 'public', handler: async () => ({ status: 200, body: 'late' }) });
    expect(await call(server, 'GET', '/late')).toMatchObject({ status: 200, json: 'late' });
    dispose();
    expect(await call(server, 'GET', '/late')).toMatchObject({ status: 404 });
  });

  it('close() frees the port, even with a kept-alive connection open', async () => {
    const { server } = await serve();
    expect(await call(server, 'GET', '/admin')).toMatchObject({ status: 200 });
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const again = await serve({ port: server.port });
    expect(again.server.port).toBe(server.port);
  });
});

describe('lstm-signals serve', () => {
  // The last two sessions of the bundled S&P file: enough to serve, quick to ingest.
  const data = mkdtempSync(path.join(tmpdir(), 'lstm-serve-'));
  const lines = readFileSync(SPX_CSV, 'utf8').trim().split('\n');
  writeFileSync(path.join(data, 'SPX.csv'), [lines[0], ...lines.slice(-2)].join('\n'));

  it('serves the API until SIGTERM, then deactivates and exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', data, '--db', `sqlite:${path.join(data, 'serve.sqlite')}`], {
      env: { ...process.env, LSTM_DB_URL: '', LSTM_ADMIN_TOKEN: TOKEN },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
        const found = /serving (http:\/\/\S+) \(Ctrl-C stops\)/.exec(stdout);
        if (found) resolve(found[1]!);
      });
      void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/lstm$/);
    const bars = await fetch(`${url}/bars`);
    expect(await bars.json()).toEqual({ symbols: [{ symbol: 'SPX', first: '2020-04-16', last: '2020-04-17', sessions: 2 }] });
    expect((await fetch(`${url}/alerts`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${url}/alerts`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('lstm-signals: SIGTERM: stopping');
  });

  it('refuses to listen beyond 127.0.0.1 without LSTM_ADMIN_TOKEN', async () => {
    const result = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--data', SPX_CSV, '--db', 'sqlite::memory:'], { cwd: data, env: { LSTM_ADMIN_TOKEN: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('lstm-signals: refusing to listen on 0.0.0.0 without an admin token: set LSTM_ADMIN_TOKEN, or listen on 127.0.0.1');
  });
});
