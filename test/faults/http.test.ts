/** What the HTTP server does when its callers or its database misbehave. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPlugin, type LstmSignalsPlugin, type Logger, type PluginConfigInput, type Route } from '../../plugin/index.js';
import { apiRoute } from '../../plugin/api/route.js';
import { inputOf, SYMBOL } from '../../plugin/api/schemas.js';
import { CsvBarSource } from '../../adapters/bars/csv.js';
import { StandaloneHost } from '../../adapters/standalone/host.js';
import { startHttpServer, type HttpServerOptions, type RunningHttpServer } from '../../adapters/standalone/http-server.js';
import { createScratchMysqlDatabase, describeMysql } from '../support/databases.js';
import { SPX_CSV } from '../support/spx.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const TOKEN = 'faults-admin-token';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A POST from `localAddress` (any 127.x address is this machine), as another client would send it. */
function post(url: string, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', ...headers } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: JSON.parse(text) }));
    });
    outgoing.on('error', reject);
    outgoing.end('{}');
  });
}

describe('hostile HTTP: guessing the admin token', () => {
  let server: RunningHttpServer;
  const calls: unknown[] = [];
  const admin: Route = { method: 'POST', path: '/admin', access: 'admin', handler: async ({ body }) => (calls.push(body), { status: 200, body: { done: true } }) };
  const read: Route = { method: 'GET', path: '/read', access: 'public', handler: async () => ({ status: 200, body: { read: true } }) };

  async function serve(options: Partial<HttpServerOptions>) {
    server = await startHttpServer({ host: { routes: [admin, read], logger: quiet }, adminToken: TOKEN, ...options });
    return `${server.url}/admin`;
  }
  afterEach(() => server.close());

  it('after the limit of wrong tokens in the window, the address gets 429 with Retry-After, the right token too; others and public routes do not', async () => {
    const url = await serve({ authThrottle: { failures: 3, windowMs: 60_000 } });
    const wrong = { authorization: 'Bearer not-the-admin-token' };
    const right = { authorization: `Bearer ${TOKEN}` };
    expect((await post(url, wrong)).status).toBe(403);
    expect((await post(url, wrong)).status).toBe(403);
    // A success neither counts nor forgives.
    expect((await post(url, right)).status).toBe(200);
    expect((await post(url, wrong)).status).toBe(403);
    const limited = await post(url, wrong);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: `too many wrong admin tokens from this address: retry in ${limited.headers['retry-after']} s`, request_id: limited.headers['x-request-id'] });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Once limited, the answer no longer depends on the token, so it tells a guesser nothing.
    const callsBefore = calls.length;
    expect((await post(url, right)).status).toBe(429);
    expect(calls.length).toBe(callsBefore);
    // Another client address is not held back, nor is a public route.
    expect((await post(url, right, '127.0.0.2')).status).toBe(200);
    expect((await post(url, wrong, '127.0.0.2')).status).toBe(403);
    expect(await (await fetch(`${server.url}/read`)).json()).toEqual({ read: true });
  });

  it('a form another site posts (no JSON type) never reaches an open admin route', async () => {
    const url = await serve({ adminToken: undefined });
    const callsBefore = calls.length;
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain']) {
      expect(await post(url, { 'content-type': type })).toMatchObject({ status: 415, body: { error: 'a POST body must be JSON: send Content-Type: application/json' } });
    }
    expect(calls.length).toBe(callsBefore);
  });
});

/**
 * Sends `head` as is over a raw connection and reads the answer until the server closes it; `hold` keeps the
 * connection open after it, as a client that has more to send and sends it slowly.
 */
function rawRequest(url: string, head: string, { hold = false } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(port), hostname, () => (hold ? socket.write(head) : socket.end(head)));
    socket.setTimeout(30_000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(head)}`)));
    socket.on('data', (chunk: Buffer) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

describe('hostile HTTP: request targets that are not URLs', () => {
  it('answers 400 and goes on serving', async () => {
    const read: Route = { method: 'GET', path: '/read', access: 'public', handler: async () => ({ status: 200, body: { read: true } }) };
    const server = await startHttpServer({ host: { routes: [read], logger: quiet }, adminToken: TOKEN });
    try {
      for (const target of ['//[', 'http://[::1', 'http://']) {
        const answer = await rawRequest(server.url, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        const requestId = /^x-request-id: (\S+)\r$/im.exec(answer)?.[1];
        expect([answer.split('\r\n')[0], JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))]).toEqual([
          'HTTP/1.1 400 Bad Request',
          { error: 'the request target is not a valid URL', request_id: requestId },
        ]);
      }
      expect(await (await fetch(`${server.url}/read`)).json()).toEqual({ read: true });
    } finally {
      await server.close();
    }
  });
});

describe('hostile HTTP: a body nested deeper than any input', () => {
  it('is refused as invalid input (400 naming the field), not a server error', async () => {
    const errors: string[] = [];
    const route = apiRoute<{ symbol: string }>({ method: 'POST', path: '/deep', access: 'public', input: inputOf({ symbol: SYMBOL }, ['symbol']), handler: async ({ symbol }) => ({ symbol }) });
    const server = await startHttpServer({ host: { routes: [route], logger: { ...quiet, error: (message) => void errors.push(message) } }, adminToken: TOKEN });
    try {
      // Under the 1 MiB limit: 400 000 nested arrays where a string belongs.
      const depth = 400_000;
      for (const body of [`{"symbol":${'['.repeat(depth)}${']'.repeat(depth)}}`, `{"symbol":"SPX","extra":${'{"a":'.repeat(depth / 4)}1${'}'.repeat(depth / 4)}}`]) {
        const response = await fetch(`${server.url}/api/lstm/deep`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect([response.status, ((await response.json()) as { error: string }).error]).toEqual([400, body.includes('extra') ? 'extra: is not a known field' : 'symbol: must be string']);
      }
      expect(errors).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('hostile HTTP: a client that sends its request slowly', () => {
  it('is cut off with 408 once the request timeout has passed, while others are served', async () => {
    const routes: Route[] = [
      { method: 'GET', path: '/read', access: 'public', handler: async () => ({ status: 200, body: { read: true } }) },
      { method: 'POST', path: '/echo', access: 'public', handler: async ({ body }) => ({ status: 200, body: { body } }) },
    ];
    const server = await startHttpServer({ host: { routes, logger: quiet }, adminToken: TOKEN, requestTimeoutMs: 1_000 });
    try {
      // Promises 100 bytes of body, sends one.
      const slow = rawRequest(server.url, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{', { hold: true });
      expect(await (await fetch(`${server.url}/read`)).json()).toEqual({ read: true });
      expect((await slow).split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    } finally {
      await server.close();
    }
  });
});

/** The bundled S&P bars' last 30 sessions: enough to serve, quick to store. */
function smallBarSource(): CsvBarSource {
  const work = mkdtempSync(path.join(tmpdir(), 'lstm-faults-http-'));
  const lines = readFileSync(SPX_CSV, 'utf8').trim().split('\n');
  writeFileSync(path.join(work, 'SPX.csv'), [lines[0], ...lines.slice(-30)].join('\n'));
  return new CsvBarSource(work, { strict: true });
}

/**
 * The plugin over a scratch MariaDB database reached through a proxy that `startProxy` puts in front of it,
 * served by the standalone server; the errors its routes log are kept. Set up before the suite's tests, taken
 * down after them.
 */
function servedThroughProxy(config: PluginConfigInput = {}) {
  const errors: Array<[string, Record<string, unknown> | undefined]> = [];
  const logger: Logger = { ...quiet, error: (message, fields) => void errors.push([message, fields]) };
  const served = { errors } as { errors: typeof errors; proxy: TcpProxy; plugin: LstmSignalsPlugin; server: RunningHttpServer; drop: () => Promise<void> };
  beforeAll(async () => {
    const scratch = await createScratchMysqlDatabase();
    served.drop = scratch.drop;
    const direct = new URL(scratch.url);
    served.proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 3306) });
    const viaProxy = new URL(scratch.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(served.proxy.port);
    served.plugin = createPlugin({ ...config, db_url: viaProxy.toString(), symbols: ['SPX'] });
    const host = new StandaloneHost({ source: smallBarSource(), logger });
    await served.plugin.activate(host);
    served.server = await startHttpServer({ host, adminToken: TOKEN });
  });
  return served;
}

/** A GET with a bounded wait: a route that hangs fails the test instead of stalling it. */
async function boundedGet(server: RunningHttpServer, route: string) {
  const response = await fetch(`${server.url}/api/lstm${route}`, { signal: AbortSignal.timeout(30_000) });
  return { status: response.status, requestId: response.headers.get('x-request-id'), text: await response.text() };
}

/** Every route answers 503 with only the short reason and the id, and the log holds the detail under that id. */
async function expectUnavailable(served: { server: RunningHttpServer; errors: Array<[string, Record<string, unknown> | undefined]> }, routes: string[]) {
  for (const route of routes) {
    const answer = await boundedGet(served.server, route);
    expect([route, answer.status, JSON.parse(answer.text)]).toEqual([route, 503, { error: 'database unavailable', request_id: answer.requestId }]);
    expect(served.errors.filter(([, fields]) => fields?.request_id === answer.requestId)).toEqual([[expect.stringContaining(`GET /api/lstm${route} failed (request ${answer.requestId}): `), expect.anything()]]);
  }
}

const ROUTES_THAT_READ = ['/bars', '/signals', '/monitoring', '/versions', '/training-runs'];

describeMysql('database down: the API over a MariaDB that goes away and comes back', () => {
  const served = servedThroughProxy();
  afterAll(async () => {
    await served.server?.close();
    await served.proxy?.open().catch(() => {});
    await served.plugin?.deactivate();
    await served.drop?.();
  });

  it('answers 503 "database unavailable" with the request id, says nothing of the server, and serves again once it is back', async () => {
    expect((await boundedGet(served.server, '/bars')).status).toBe(200);
    await served.proxy.close();
    await expectUnavailable(served, ROUTES_THAT_READ);
    expect(served.errors.map(([message]) => message).join('\n')).toMatch(/ECONNREFUSED|PROTOCOL_CONNECTION_LOST|ECONNRESET/);
    await served.proxy.open();
    await expect.poll(async () => (await boundedGet(served.server, '/bars')).status, { timeout: 60_000, interval: 250 }).toBe(200);
  });
});

describeMysql('database frozen: the API over a MariaDB that stops answering and resumes', () => {
  // Short timeouts, so the test waits seconds; the defaults are 10 s to connect and 30 s of silence.
  const served = servedThroughProxy({ db_timeouts: { connect_ms: 1_000, query_ms: 1_000 } });
  afterAll(async () => {
    await served.server?.close();
    served.proxy?.thaw();
    await served.plugin?.deactivate();
    await served.proxy?.close();
    await served.drop?.();
  });

  it('answers 503 "database unavailable" once the database timeouts pass, instead of hanging, and serves again once it answers', async () => {
    expect((await boundedGet(served.server, '/bars')).status).toBe(200);
    served.proxy.freeze();
    await expectUnavailable(served, ROUTES_THAT_READ);
    served.proxy.thaw();
    await expect.poll(async () => (await boundedGet(served.server, '/bars')).status, { timeout: 60_000, interval: 250 }).toBe(200);
  });
});
