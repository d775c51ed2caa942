/**
 * Whether an error means the database could not be reached, rather than that a request or the code was wrong:
 * a host answers it 503 "database unavailable" (and logs the driver's message, which names the server).
 */
import { QueryFailedError } from 'typeorm';

/** mysql2's and Node's codes for a server that refused, dropped or never answered the connection. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);

const codeOf = (error: unknown) => (error as { code?: unknown } | undefined)?.code;

export function isDatabaseUnavailable(error: unknown): boolean {
  // A pool that cannot connect rejects with the driver's error; a query on a connection that died, with TypeORM's wrapper.
  const driverError = error instanceof QueryFailedError ? error.driverError : error;
  return CONNECTION_CODES.has(codeOf(driverError) as string);
}
