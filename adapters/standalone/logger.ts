/** The standalone host's logger: one line per entry on stderr, so stdout stays clean for --json output. */
import type { Logger } from '../../plugin/index.js';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

export function createConsoleLogger(level: Level = (process.env.LSTM_LOG_LEVEL as Level) || 'info'): Logger {
  const threshold = Math.max(0, LEVELS.indexOf(level));
  const write = (at: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(at) < threshold) return;
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    process.stderr.write(`${new Date().toISOString()} ${at.toUpperCase()} ${message}${extra}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
