/**
 * Route inputs checked with ajv against each route's JSON Schema, as the configuration is (plugin/config.ts):
 * defaults filled in, every problem named by its field. A query string is all text, so its values are
 * coerced to the schema's types ("20" → 20, "true" or "1" → true); a JSON body must carry the types itself.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { isSessionDate } from '../calendar.js';

/** The input of a route: an object of named fields, none beyond those declared. */
export interface InputSchema {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required?: readonly string[];
  additionalProperties: false;
}

/** Invalid input: the route answers 400 with `message`, one `field: problem` per problem. */
export class InputError extends Error {
  override name = 'InputError';
}

function ajv(coerceTypes: boolean): Ajv {
  return new Ajv({ coerceTypes, useDefaults: true, allErrors: true }).addFormat('date', { type: 'string', validate: isSessionDate });
}

const fromQuery = ajv(true);
const fromBody = ajv(false);

/** `field: message`, naming a missing or unknown field itself rather than the object that lacks or has it. */
function describe(error: ErrorObject): string {
  const path = error.instancePath.split('/').slice(1);
  if (error.keyword === 'required') return `${[...path, error.params.missingProperty].join('.')}: is required`;
  if (error.keyword === 'additionalProperties') return `${[...path, error.params.additionalProperty].join('.')}: is not a known field`;
  const allowed = error.keyword === 'enum' ? ` (${(error.params.allowedValues as unknown[]).join(', ')})` : '';
  return `${path.join('.') || '(input)'}: ${error.message}${allowed}`;
}

/** ajv coerces only "true"/"false" to a boolean; a query flag may also be written 1/0. */
function normaliseFlags(query: Record<string, unknown>, schema: InputSchema): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(query)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, schema.properties[key]?.type === 'boolean' && (value === '1' || value === '0') ? value === '1' : value]),
  );
}

const shallowCopy = (value: unknown) => (typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : value);

/** A function that returns the validated input (defaults filled in) or throws InputError. */
export function compileInput<T>(schema: InputSchema, from: 'query' | 'body'): (raw: unknown) => T {
  const validate = (from === 'query' ? fromQuery : fromBody).compile(schema);
  return (raw) => {
    // A shallow copy, for the defaults ajv fills in: a deep clone would recurse as deep as a hostile body nests.
    const input = from === 'query' ? normaliseFlags(raw as Record<string, unknown>, schema) : shallowCopy(raw ?? {});
    if (!validate(input)) throw new InputError((validate.errors ?? []).map(describe).join('; '));
    return input as T;
  };
}
