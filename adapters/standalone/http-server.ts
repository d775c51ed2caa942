/**
 * The standalone host's HTTP server (node:http): serves the routes registered on the host as they stand at
 * each request. Path parameters (`:id`), query strings and JSON bodies are parsed here; the plugin validates
 * them. Admin routes need `Authorization: Bearer <token>`. Without a token nobody could be told apart, so the
 * server then listens on 127.0.0.1 only, and refuses any other address; admin routes refuse cross-site browser
 * requests either way.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, Route, RouteRequest, RouteResponse } from '../../plugin/index.js';

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

/**
 * A browser says where a request comes from: a page of another site must not reach an admin route (with no
 * token they are open to anything that can reach 127.0.0.1, a browser included). 401 without a bearer
 * credential, 403 with a wrong one, compared in constant time.
 */
function authorize(request: IncomingMessage, token: string | undefined): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new HttpError(403, `admin routes refuse ${site} browser requests`);
  if (!token) return;
  const presented = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!presented) throw new HttpError(401, 'this route needs Authorization: Bearer <LSTM_ADMIN_TOKEN>', { 'www-authenticate': 'Bearer' });
  if (!timingSafeEqual(digest(presented), digest(token))) throw new HttpError(403, 'the admin token is wrong');
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

function send(response: ServerResponse, status: number, body: string | Uint8Array, headers: Record<string, string>): void {
  response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(response, status, JSON.stringify(body), { ...headers, 'content-type': 'application/json; charset=utf-8' });
}

function sendRouteResponse(response: ServerResponse, route: Route, answer: RouteResponse): void {
  if (answer.contentType === undefined) return sendJson(response, answer.status, answer.body);
  if (typeof answer.body !== 'string' && !(answer.body instanceof Uint8Array)) {
    throw new Error(`${route.method} ${route.path} answered with contentType ${answer.contentType} but a body that is neither a string nor a Buffer`);
  }
  send(response, answer.status, answer.body, { 'content-type': answer.contentType });
}

function headersOf(request: IncomingMessage): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]));
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { host } = options;
  const token = options.adminToken || undefined;
  const hostname = options.hostname ?? LOCAL_ONLY;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!token && hostname !== LOCAL_ONLY) {
    throw new Error(`refusing to listen on ${hostname} without an admin token: set LSTM_ADMIN_TOKEN, or listen on ${LOCAL_ONLY}`);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    try {
      const { route, params } = match(host.routes, method, url.pathname);
      if (route.access === 'admin') authorize(request, token);
      const routeRequest: RouteRequest = {
        query: Object.fromEntries(url.searchParams),
        body: method === 'POST' ? await readJsonBody(request, maxBodyBytes) : undefined,
        params,
        headers: headersOf(request),
      };
      sendRouteResponse(response, route, await route.handler(routeRequest));
    } catch (error) {
      if (error instanceof HttpError) return sendJson(response, error.status, { error: error.message }, error.headers);
      const message = error instanceof Error ? error.message : String(error);
      host.logger.error(`http: ${method} ${url.pathname} failed: ${message}`, { stack: error instanceof Error ? error.stack : undefined });
      if (!response.headersSent) sendJson(response, 500, { error: message });
      else response.destroy();
    }
  }

  const server = createServer((request, response) => void handle(request, response));
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
