/**
 * How the plugin's HTTP API is written: each route declares the JSON Schema of its input (the query of a
 * GET, the JSON body of a POST) and of its path parameters, and its handler receives them validated.
 * Answers are JSON. Invalid input is 400, an unknown symbol, version, job or backtest 404, and a request
 * the data cannot serve (no model may forecast, a corrupted model, a rollback to a candidate, a job that cannot be retried or cancelled) 409, each `{ error }`; anything else
 * is thrown to the host, whose server answers 500.
 */
import { NoForecastError } from '../forecasting/fallback.js';
import type { HttpMethod, Route } from '../host.js';
import type { LstmSignalsPlugin } from '../plugin.js';
import { CandidateVersionError, ModelBlobError } from '../registry/model-registry.js';
import { compileInput, InputError, type InputSchema } from './validation.js';

export const API_PREFIX = '/api/lstm';

export class NotFound extends Error {
  override name = 'NotFound';
}

/** A request the resource's present state refuses (a training job that cannot be retried or cancelled now): 409. */
export class Conflict extends Error {
  override name = 'Conflict';
}

export interface ApiRouteSpec<Input, Params> {
  method: HttpMethod;
  /** Below API_PREFIX; `:name` segments are path parameters. */
  path: string;
  /** `admin` for every route that writes. */
  access: 'public' | 'admin';
  /** None = the route takes no input (any field is refused). */
  input?: InputSchema;
  params?: InputSchema;
  /** The status of a success (default 200). */
  status?: number;
  handler(input: Input, params: Params): Promise<unknown>;
}

const NO_INPUT: InputSchema = { type: 'object', properties: {}, additionalProperties: false };

function statusOf(error: unknown): number | undefined {
  if (error instanceof InputError) return 400;
  if (error instanceof NotFound) return 404;
  if (error instanceof Conflict || error instanceof NoForecastError || error instanceof ModelBlobError || error instanceof CandidateVersionError) return 409;
  return undefined;
}

export function apiRoute<Input = Record<string, never>, Params = Record<string, never>>(spec: ApiRouteSpec<Input, Params>): Route {
  const input = spec.input ?? NO_INPUT;
  const readInput = compileInput<Input>(input, spec.method === 'GET' ? 'query' : 'body');
  const readParams = compileInput<Params>(spec.params ?? NO_INPUT, 'query');
  return {
    method: spec.method,
    path: `${API_PREFIX}${spec.path}`,
    access: spec.access,
    input,
    async handler(request) {
      try {
        const params = readParams(request.params);
        const body = await spec.handler(readInput(spec.method === 'GET' ? request.query : request.body), params);
        return { status: spec.status ?? 200, body };
      } catch (error) {
        const status = statusOf(error);
        if (status === undefined) throw error;
        return { status, body: { error: (error as Error).message } };
      }
    },
  };
}

/** Every route that names a symbol answers 404 for one without stored bars. */
export async function requireSymbol(plugin: LstmSignalsPlugin, symbol: string): Promise<void> {
  if (!(await plugin.barCoverage()).some((c) => c.symbol === symbol)) throw new NotFound(`${symbol}: no stored bars`);
}
