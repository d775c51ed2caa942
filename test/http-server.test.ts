import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger, Route } from '../plugin/index.js';
import { StandaloneHost } from '../adapters/standalone/host.js';
import { AuthThrottle } from '../adapters/standalone/auth-throttle.js';
import { startHttpServer, type HttpServerOptions, type RunningHttpServer } from '../adapters/standalone/http-server.js';
import { BIN, runCli } from './support/cli.js';
import { SPX_CSV } from './support/spx.js';

const TOKEN = 'sesame-sixteen-chars';
const JSON_TYPE = { 'content-type': 'application/json' };

function recordingLogger(): Logger & { lines: Array<[string, string, Record<string, unknown> | undefined]> } {
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push([level, message, fields]);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const INTERNALS = 'connect ECONNREFUSED 10.1.2.3:3306 in SELECT * FROM `lstm_bar` at /srv/lstm/plugin/store/store.ts';

/** Routes that show what the server handed them, or answer in the ways a route can. */
const ROUTES: Route[] = [
  { method: 'GET', path: '/echo/:id/items/:item', access: 'public', handler: async ({ params, query }) => ({ status: 200, body: { params, query } }) },
  { method: 'POST', path: '/echo', access: 'public', handler: async ({ body, headers }) => ({ status: 201, body: { body, custom: headers['x-custom'] } }) },
  { method: 'POST', path: '/admin', access: 'admin', handler: async ({ body }) => ({ status: 200, body: { done: body } }) },
  { method: 'GET', path: '/admin', access: 'public', handler: async () => ({ status: 200, body: { read: true } }) },
  // What a database driver's error says: where the server is, the SQL, a file path.
  { method: 'GET', path: '/fail', access: 'public', handler: async () => Promise.reject(new Error(INTERNALS)) },
  { method: 'GET', path: '/answers-500', access: 'public', handler: async () => ({ status: 500, body: { error: INTERNALS } }) },
  { method: 'GET', path: '/page', access: 'public', handler: async () => ({ status: 200, contentType: 'text/html; charset=utf-8', body: '<h1>é</h1>' }) },
  { method: 'GET', path: '/bytes', access: 'public', handler: async () => ({ status: 200, contentType: 'application/octet-stream', body: Buffer.from([0, 1, 255]) }) },
  { method: 'GET', path: '/not-raw', access: 'public', handler: async () => ({ status: 200, contentType: 'text/plain', body: { an: 'object' } }) },
];

/** The headers every answer carries, whatever its route or status. */
const SECURE = { 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };
const securityHeaders = (headers: Headers) => Object.fromEntries([...Object.keys(SECURE), 'content-security-policy'].map((name) => [name, headers.get(name)]));

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
    // A POST's body is JSON and says so unless a test says otherwise.
    const headers = { ...(method === 'POST' && JSON_TYPE), ...init.headers };
    const response = await fetch(`${server.url}${route}`, { method, body: init.body, headers });
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
    const chunked = await fetch(`${server.url}/echo`, { method: 'POST', headers: JSON_TYPE, body: Readable.toWeb(Readable.from(['{"text":"', 'x'.repeat(60), 'x'.repeat(60), '"}'])) as ReadableStream, duplex: 'half' } as RequestInit);
    expect([chunked.status, await chunked.json()]).toEqual([413, { error: 'the request body exceeds 100 bytes', request_id: chunked.headers.get('x-request-id') }]);
  });

  it('answers 404 to an unknown path and 405 to a known path with another method', async () => {
    const { server } = await serve();
    expect(await call(server, 'GET', '/nowhere')).toMatchObject({ status: 404, json: { error: 'no route GET /nowhere' } });
    expect(await call(server, 'GET', '/echo/1/items')).toMatchObject({ status: 404, json: { error: 'no route GET /echo/1/items' } });
    const wrong = await call(server, 'POST', '/fail');
    expect(wrong).toMatchObject({ status: 405, json: { error: 'POST is not allowed on /fail' } });
    expect(wrong.headers.get('allow')).toBe('GET');
  });

  it('answers 500 "internal error" and a request id to a route that throws or answers 500; the detail goes to the logger with that id', async () => {
    const { server, logger } = await serve();
    const thrown = await call(server, 'GET', '/fail');
    const answered = await call(server, 'GET', '/answers-500');
    for (const failed of [thrown, answered]) {
      expect(failed).toMatchObject({ status: 500, json: { error: 'internal error', request_id: failed.headers.get('x-request-id') } });
      expect(Object.keys(failed.json)).toEqual(['error', 'request_id']);
      for (const internal of ['10.1.2.3', '3306', 'SELECT', 'lstm_bar', '/srv', 'store.ts']) expect(failed.text).not.toContain(internal);
    }
    expect(thrown.json.request_id).not.toBe(answered.json.request_id);
    expect(logger.lines.filter(([level]) => level === 'error')).toEqual([
      ['error', `http: GET /fail failed (request ${thrown.json.request_id}): ${INTERNALS}`, { request_id: thrown.json.request_id, stack: expect.stringContaining(`Error: ${INTERNALS}`) }],
      ['error', `http: GET /answers-500 answered 500 (request ${answered.json.request_id}): ${INTERNALS}`, { request_id: answered.json.request_id }],
    ]);
  });

  it('gives every response an X-Request-Id, and every error body the same id beside its short message', async () => {
    const { server } = await serve({ maxBodyBytes: 100 });
    const answers = [
      await call(server, 'GET', '/admin'),
      await call(server, 'POST', '/echo', { body: '{"symbol":' }),
      await call(server, 'POST', '/admin', { body: '{}' }),
      await call(server, 'POST', '/admin', { body: '{}', headers: { authorization: 'Bearer wrong' } }),
      await call(server, 'GET', '/nowhere'),
      await call(server, 'POST', '/echo', { body: JSON.stringify({ text: 'x'.repeat(100) }) }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 400, 401, 403, 404, 413]);
    const ids = answers.map((a) => a.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(answers[0]!.json).toEqual({ read: true });
    expect(answers.slice(1).map((a) => a.json)).toEqual([
      { error: 'the request body is not JSON: Unexpected end of JSON input', request_id: ids[1] },
      { error: 'this route needs Authorization: Bearer <LSTM_ADMIN_TOKEN>', request_id: ids[2] },
      { error: 'the admin token is wrong', request_id: ids[3] },
      { error: 'no route GET /nowhere', request_id: ids[4] },
      { error: 'the request body exceeds 100 bytes', request_id: ids[5] },
    ]);
  });

  it('sends a response with a contentType as is: text or bytes; anything else is a 500', async () => {
    const { server, logger } = await serve();
    const page = await call(server, 'GET', '/page');
    expect([page.status, page.headers.get('content-type'), page.text]).toEqual([200, 'text/html; charset=utf-8', '<h1>é</h1>']);
    expect(page.headers.get('content-length')).toBe('11');
    const bytes = await fetch(`${server.url}/bytes`);
    expect([bytes.headers.get('content-type'), [...new Uint8Array(await bytes.arrayBuffer())]]).toEqual(['application/octet-stream', [0, 1, 255]]);
    expect(await call(server, 'GET', '/not-raw')).toMatchObject({ status: 500, json: { error: 'internal error' } });
    expect(logger.lines.filter(([level]) => level === 'error').map(([, message]) => message)).toEqual([
      expect.stringMatching(/^http: GET \/not-raw failed \(request [0-9a-f-]{36}\): GET \/not-raw answered with contentType text\/plain but a body that is neither a string nor a Buffer$/),
    ]);
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
    expect(logger.lines).toEqual([
      ['info', `http: listening on ${server.url}; admin routes need the bearer token`, undefined],
      ['warn', expect.stringMatching(/^http: a wrong admin token from 127\.0\.0\.1 \(request [0-9a-f-]{36}\)$/), undefined],
    ]);
  });

  it('refuses an admin token shorter than 16 characters at start, without listening', async () => {
    await expect(serve({ adminToken: 'fifteen-chars!!' })).rejects.toThrow('LSTM_ADMIN_TOKEN is 15 characters long: an admin token needs at least 16');
    const { server } = await serve({ adminToken: 'sixteen-chars!!!' });
    expect(await call(server, 'POST', '/admin', { body: '{}', headers: { authorization: 'Bearer sixteen-chars!!!' } })).toMatchObject({ status: 200 });
  });

  it('with a token and no hostname, still listens on 127.0.0.1 only', async () => {
    const { server } = await serve();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    // Every other address of this machine is refused (where it has one).
    const others = Object.values(networkInterfaces()).flatMap((addresses) => addresses ?? []).filter((a) => !a.internal && a.family === 'IPv4');
    for (const { address } of others) await expect(fetch(`http://${address}:${server.port}/admin`)).rejects.toThrow();
    await expect(fetch(`http://[::1]:${server.port}/admin`)).rejects.toThrow();
  });

  it('a POST needs Content-Type: application/json: 415 for another type or none, checked after the token', async () => {
    const { server } = await serve();
    const auth = { authorization: `Bearer ${TOKEN}` };
    const refused = { status: 415, json: { error: 'a POST body must be JSON: send Content-Type: application/json' } };
    expect(await call(server, 'POST', '/admin', { body: '{"a":1}', headers: { ...auth, 'content-type': 'text/plain' } })).toMatchObject(refused);
    expect(await call(server, 'POST', '/admin', { body: 'a=1', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' } })).toMatchObject(refused);
    expect(await call(server, 'POST', '/admin', { body: '{}', headers: { ...auth, 'content-type': 'application/jsonp' } })).toMatchObject(refused);
    const untyped = await fetch(`${server.url}/admin`, { method: 'POST', headers: auth });
    expect([untyped.status, ((await untyped.json()) as { error: string }).error]).toEqual([415, refused.json.error]);
    expect(await call(server, 'POST', '/echo', { body: '{}', headers: { 'content-type': 'text/plain' } })).toMatchObject(refused);
    // Without the token the caller learns nothing more than that.
    expect(await call(server, 'POST', '/admin', { body: '{}', headers: { 'content-type': 'text/plain' } })).toMatchObject({ status: 401 });
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8']) {
      expect(await call(server, 'POST', '/admin', { body: '{"a":3}', headers: { ...auth, 'content-type': type } })).toMatchObject({ status: 200, json: { done: { a: 3 } } });
    }
  });

  it('sends the security headers on every answer: no framing, no sniffing, no referrer, no caching, a policy that allows nothing', async () => {
    const { server } = await serve();
    const answers = [
      await call(server, 'GET', '/admin'),
      await call(server, 'POST', '/admin', { body: '{}', headers: { authorization: `Bearer ${TOKEN}` } }),
      await call(server, 'GET', '/page'),
      await call(server, 'GET', '/nowhere'),
      await call(server, 'GET', '/fail'),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 404, 500]);
    for (const { headers } of answers) expect(securityHeaders(headers)).toEqual({ ...SECURE, 'content-security-policy': "default-src 'none'; frame-ancestors 'none'" });
  });

  it('sends a route’s own headers (a page’s policy) over the defaults, never over its Cache-Control or request id', async () => {
    const { server, host } = await serve();
    const policy = "default-src 'none'; script-src 'self'; frame-ancestors 'none'";
    host.registerRoute({
      method: 'GET',
      path: '/styled',
      access: 'public',
      handler: async () => ({ status: 200, contentType: 'text/html', body: '<p>', headers: { 'content-security-policy': policy, 'cache-control': 'max-age=600', 'x-request-id': 'mine' } }),
    });
    const page = await call(server, 'GET', '/styled');
    expect(securityHeaders(page.headers)).toEqual({ ...SECURE, 'content-security-policy': policy });
    expect(page.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
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

describe('AuthThrottle: wrong admin tokens per address in a sliding window', () => {
  it('holds an address back from its limit-th failure until the oldest of them leaves the window', () => {
    let now = 1_000_000;
    const throttle = new AuthThrottle({ failures: 3, windowMs: 10_000 }, () => now);
    for (const step of [0, 4_000, 3_000]) {
      expect(throttle.retryAfter('a')).toBe(0);
      now += step;
      throttle.fail('a');
    }
    // Failures at 0, 4 and 7 s: held back until the first is 10 s old.
    expect([throttle.retryAfter('a'), throttle.retryAfter('b')]).toEqual([3, 0]);
    now += 2_500;
    expect(throttle.retryAfter('a')).toBe(1);
    now += 500;
    expect(throttle.retryAfter('a')).toBe(0);
    // Two failures left in the window: one more holds it back again, until the one at 4 s is 10 s old.
    throttle.fail('a');
    expect(throttle.retryAfter('a')).toBe(4);
    now += 20_000;
    expect(throttle.retryAfter('a')).toBe(0);
  });

  it('forgets addresses whose failures have left the window, and keeps at most its bound of addresses', () => {
    let now = 0;
    const throttle = new AuthThrottle({ failures: 1, windowMs: 1_000 }, () => now, 3);
    for (const address of ['a', 'b', 'c']) throttle.fail(address);
    expect(throttle.tracked).toBe(3);
    throttle.fail('d');
    // Full: the oldest address gives way to the newest.
    expect([throttle.tracked, throttle.retryAfter('a'), throttle.retryAfter('d')]).toEqual([3, 0, 1]);
    now += 1_000;
    throttle.fail('e');
    expect(throttle.tracked).toBe(1);
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
    expect((await fetch(`${url}/alerts`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, ...JSON_TYPE } })).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('lstm-signals: SIGTERM: stopping');
  });

  it('refuses an LSTM_ADMIN_TOKEN shorter than 16 characters before opening anything', async () => {
    const db = path.join(data, 'short-token.sqlite');
    const result = await runCli(['serve', '--port', '0', '--data', data, '--db', `sqlite:${db}`], { cwd: data, env: { LSTM_ADMIN_TOKEN: 'sesame' } });
    expect([result.code, result.stdout]).toEqual([2, '']);
    expect(result.stderr).toBe('lstm-signals: LSTM_ADMIN_TOKEN is 6 characters long: an admin token needs at least 16\n');
    expect(existsSync(db)).toBe(false);
  });

  it('refuses to listen beyond 127.0.0.1 without LSTM_ADMIN_TOKEN', async () => {
    const result = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--data', SPX_CSV, '--db', 'sqlite::memory:'], { cwd: data, env: { LSTM_ADMIN_TOKEN: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('lstm-signals: refusing to listen on 0.0.0.0 without an admin token: set LSTM_ADMIN_TOKEN, or listen on 127.0.0.1');
  });
});
