/**
 * Whether an error means the database could not be reached, rather than that a request or the code was wrong:
 * a host answers it 503 "database unavailable" (and logs the message, which names the server).
 */
import { asUnavailable, DatabaseUnavailableError } from '../store/errors.js';

export function isDatabaseUnavailable(error: unknown): boolean {
  // The store raises DatabaseUnavailableError; a driver's error that reached here unwrapped is judged by the same codes.
  return asUnavailable(error, 'the database') instanceof DatabaseUnavailableError;
}
