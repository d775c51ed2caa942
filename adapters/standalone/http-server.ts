/**
 * The standalone host's HTTP server (node:http): serves the routes registered on the host as they stand at
 * each request. Path parameters (`:id`), query strings and JSON bodies are parsed here; the plugin validates
 * them. Admin routes need `Authorization: Bearer <token>`. Without a token nobody could be told apart, so the
 * server then listens on 127.0.0.1 only, and refuses any other address; admin routes refuse cross-site browser
 * requests either way.
 *
 * Every answer carries a request id (`X-Request-Id`, and `request_id` in an error's body). A failure's detail
 * (a driver's message names the database server; a stack names files) goes to the host's logger under that id,
 * never to the caller: 503 "database unavailable" or 500 "internal error".
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDatabaseUnavailable, type Logger, type Route, type RouteRequest, type RouteResponse } from '../../plugin/index.js';
import { AuthThrottle, type AuthThrottleSettings } from './auth-throttle.js';

export interface HttpServerOptions {
  /** Where the routes come from: read at every request, so a route registered or disposed later counts. */
  host: { routes: readonly Route[]; logger: Logger };
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** The admin credential (LSTM_ADMIN_TOKEN); none = admin routes open, on 127.0.0.1 only. */
  adminToken?: string;
  /** Largest request body accepted (default 1 MiB). */
  maxBodyBytes?: number;
  /** Wrong admin tokens a client address may present before it must wait (default 10 a minute). */
  authThrottle?: AuthThrottleSettings;
  /** Time a client has to send its whole request, headers and body (default 30 s); then 408 and the connection closes. */
  requestTimeoutMs?: number;
}

export interface RunningHttpServer {
  /** e.g. `http://127.0.0.1:8080`. */
  url: string;
  port: number;
  /** Stops listening and drops open connections; resolves once the port is free. */
  close(): Promise<void>;
}

const LOCAL_ONLY = '127.0.0.1';
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** A megabyte arrives in far less; Node's own 5 minutes would let a trickling client hold a connection that long. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** A shorter token could be guessed; 16 characters of a password manager's are far beyond it. */
const MIN_ADMIN_TOKEN_LENGTH = 16;

/** On every answer. JSON and the panel's assets need nothing a policy could allow; a page sends its own policy. */
const SECURITY_HEADERS: Record<string, string> = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

/** A refusal to serve a request, answered as `{ error }` with its status. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The request target as a URL; one that is none (`//[`) is the caller's mistake, not the server's. */
function parseTarget(target = '/'): URL {
  try {
    return new URL(target, 'http://localhost');
  } catch {
    throw new HttpError(400, 'the request target is not a valid URL');
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in the path: ${segment}`);
  }
}

/** The route for `method path`, with its path parameters; 404 when no route has the path, 405 when none has the method. */
function match(routes: readonly Route[], method: string, pathname: string): { route: Route; params: Record<string, string> } {
  const segments = pathname.split('/');
  const allowed: string[] = [];
  for (const route of routes) {
    const pattern = route.path.split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((part, i) => {
      if (part.startsWith(':')) {
        params[part.slice(1)] = decodeSegment(segments[i]!);
        return segments[i] !== '';
      }
      return part === segments[i];
    });
    if (!matches) continue;
    if (route.method === method) return { route, params };
    allowed.push(route.method);
  }
  if (allowed.length > 0) throw new HttpError(405, `${method} is not allowed on ${pathname}`, { allow: allowed.join(', ') });
  throw new HttpError(404, `no route ${method} ${pathname}`);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The client's address, an IPv4 one as such when the server listens on IPv6. */
const clientAddress = (request: IncomingMessage) => (request.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');

interface Gate {
  token: string | undefined;
  throttle: AuthThrottle;
  logger: Logger;
}

/**
 * A browser says where a request comes from: a page of another site must not reach an admin route (with no
 * token they are open to anything that can reach 127.0.0.1, a browser included). 401 without a bearer
 * credential, 403 with a wrong one, compared in constant time; 429 while the address is held back for
 * presenting too many wrong ones.
 */
function authorize(request: IncomingMessage, { token, throttle, logger }: Gate, requestId: string): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new HttpError(403, `admin routes refuse ${site} browser requests`);
  if (!token) return;
  const presented = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!presented) throw new HttpError(401, 'this route needs Authorization: Bearer <LSTM_ADMIN_TOKEN>', { 'www-authenticate': 'Bearer' });
  const address = clientAddress(request);
  const wait = throttle.retryAfter(address);
  if (wait > 0) throw new HttpError(429, `too many wrong admin tokens from this address: retry in ${wait} s`, { 'retry-after': String(wait) });
  if (!timingSafeEqual(digest(presented), digest(token))) {
    throttle.fail(address);
    logger.warn(`http: a wrong admin token from ${address} (request ${requestId})`);
    throw new HttpError(403, 'the admin token is wrong');
  }
}

/** A POST's body is read as JSON, so it must say it is: an HTML form of another site cannot send that type. */
function requireJsonBody(request: IncomingMessage): void {
  const type = request.headers['content-type']?.split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'a POST body must be JSON: send Content-Type: application/json', { connection: 'close' });
}

async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  if (Number(request.headers['content-length'] ?? 0) > limit) throw new HttpError(413, `the request body exceeds ${limit} bytes`, { connection: 'close' });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `the request body exceeds ${limit} bytes`, { connection: 'close' });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the request body is not JSON: ${(error as Error).message}`);
  }
}

/**
 * Writes an answer: the security headers, then the route's own (lower-cased, so one of them replaces a default
 * of the same name), then what the server alone decides. Nothing is cached: answers carry signals and tokens.
 */
function send(response: ServerResponse, requestId: string, status: number, body: string | Uint8Array, headers: Record<string, string>): void {
  const own = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    ...own,
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-request-id': requestId,
  });
  response.end(body);
}

function sendJson(response: ServerResponse, requestId: string, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(response, requestId, status, JSON.stringify(body), { ...headers, 'content-type': 'application/json; charset=utf-8' });
}

const sendError = (response: ServerResponse, requestId: string, status: number, message: string, headers?: Record<string, string>) =>
  sendJson(response, requestId, status, { error: message, request_id: requestId }, headers);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

function sendRouteResponse(response: ServerResponse, requestId: string, route: Route, answer: RouteResponse): void {
  const headers = answer.headers ?? {};
  if (answer.contentType === undefined) {
    // A route's refusal names the request too, as the server's own do.
    const body = answer.status >= 400 && isRecord(answer.body) ? { ...answer.body, request_id: requestId } : answer.body;
    return sendJson(response, requestId, answer.status, body, headers);
  }
  if (typeof answer.body !== 'string' && !(answer.body instanceof Uint8Array)) {
    throw new Error(`${route.method} ${route.path} answered with contentType ${answer.contentType} but a body that is neither a string nor a Buffer`);
  }
  send(response, requestId, answer.status, answer.body, { ...headers, 'content-type': answer.contentType });
}

/** What a route's own 5xx answer said, for the log only. */
const detailOf = (body: unknown) => (isRecord(body) && typeof body.error === 'string' ? body.error : JSON.stringify(body));

function headersOf(request: IncomingMessage): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]));
}

/**
 * Refuses what must not be served, before anything is opened: an admin token too short to resist guessing,
 * and, without a token, any address but 127.0.0.1.
 */
export function checkListenOptions(options: { hostname?: string; adminToken?: string }): void {
  const { hostname = LOCAL_ONLY, adminToken } = options;
  if (adminToken && adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new Error(`LSTM_ADMIN_TOKEN is ${adminToken.length} characters long: an admin token needs at least ${MIN_ADMIN_TOKEN_LENGTH}`);
  }
  if (!adminToken && hostname !== LOCAL_ONLY) {
    throw new Error(`refusing to listen on ${hostname} without an admin token: set LSTM_ADMIN_TOKEN, or listen on ${LOCAL_ONLY}`);
  }
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { host } = options;
  const token = options.adminToken || undefined;
  const hostname = options.hostname ?? LOCAL_ONLY;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  checkListenOptions({ hostname, adminToken: token });
  const gate: Gate = { token, throttle: new AuthThrottle(options.authThrottle), logger: host.logger };

  async function handle(request: IncomingMessage, response: ServerResponse, requestId: string, requestLine: string): Promise<void> {
    const method = request.method ?? 'GET';
    try {
      const url = parseTarget(request.url);
      const { route, params } = match(host.routes, method, url.pathname);
      if (route.access === 'admin') authorize(request, gate, requestId);
      if (method === 'POST') requireJsonBody(request);
      const routeRequest: RouteRequest = {
        query: Object.fromEntries(url.searchParams),
        body: method === 'POST' ? await readJsonBody(request, maxBodyBytes) : undefined,
        params,
        headers: headersOf(request),
      };
      const answer = await route.handler(routeRequest);
      if (answer.status < 500) return sendRouteResponse(response, requestId, route, answer);
      host.logger.error(`${requestLine} answered ${answer.status} (request ${requestId}): ${detailOf(answer.body)}`, { request_id: requestId });
      sendError(response, requestId, 500, 'internal error');
    } catch (error) {
      if (error instanceof HttpError) return sendError(response, requestId, error.status, error.message, error.headers);
      const message = error instanceof Error ? error.message : String(error);
      host.logger.error(`${requestLine} failed (request ${requestId}): ${message}`, { request_id: requestId, stack: error instanceof Error ? error.stack : undefined });
      if (response.headersSent) return void response.destroy();
      if (isDatabaseUnavailable(error)) sendError(response, requestId, 503, 'database unavailable');
      else sendError(response, requestId, 500, 'internal error');
    }
  }

  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Node looks for expired requests every `connectionsCheckingInterval`: often enough that the timeout holds.
  const server = createServer({ requestTimeout, connectionsCheckingInterval: Math.min(1_000, requestTimeout) }, (request, response) => {
    const requestId = randomUUID();
    // For the log: the path without its query, whatever the target is.
    const requestLine = `http: ${request.method} ${(request.url ?? '/').split('?')[0]}`;
    // A failure while answering must not become an unhandled rejection, which would stop the process.
    handle(request, response, requestId, requestLine).catch((error: unknown) => {
      host.logger.error(`${requestLine} could not be answered (request ${requestId}): ${error instanceof Error ? error.message : String(error)}`, { request_id: requestId });
      response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
  if (token) host.logger.info(`http: listening on ${url}; admin routes need the bearer token`);
  else host.logger.warn(`http: no LSTM_ADMIN_TOKEN set: listening on ${LOCAL_ONLY} only, admin routes open to local clients (${url})`);
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
