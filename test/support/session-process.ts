/**
 * A separate process that follows symbols through the standalone host and closes sessions, for the fault tests:
 * `node --import tsx session-process.ts DB_URL DATA_DIR NOW SYMBOLS SESSIONS [TRIGGERS] [STAGE]`. SYMBOLS and SESSIONS
 * are comma-separated; TRIGGERS `on` or `off`; with STAGE (one of the session runner's stages: `prediction logged`,
 * `accuracy backfilled`, `trigger decided`, `training queued`, `alerts raised`) the process kills itself with
 * SIGKILL as the last session's run reports that stage. Otherwise it waits for the trainings it queued and exits.
 *
 * The fault is injected through the logger the host hands the plugin, which the runner tells where it is: nothing
 * in the plugin knows about it.
 */
import { CsvBarSource } from '../../adapters/bars/csv.js';
import { StandaloneHost } from '../../adapters/standalone/host.js';
import { createPlugin, type Logger } from '../../plugin/index.js';
import { TINY_TRAINING } from './tiny-training.js';

const [url, dataDir, now, symbolList, sessionList, triggers = 'on', stage] = process.argv.slice(2) as [string, string, string, string, string, string?, string?];
const sessions = sessionList.split(',');
const killAt = stage && `session ${sessions.at(-1)}: `;

const logger: Logger = {
  debug(message) {
    if (killAt && message.includes(killAt) && message.endsWith(`: ${stage}`)) {
      console.log(`killing myself at ${stage}`);
      process.kill(process.pid, 'SIGKILL');
    }
  },
  info() {},
  warn: (message) => console.error(message),
  error: (message) => console.error(message),
};

const source = new CsvBarSource(dataDir, { strict: true });
const host = new StandaloneHost({ source, logger, now });
// The exchange calendar a platform would know: each session's next, so month ends are recognised as they close.
const calendar = (await source.load(symbolList.split(',')[0]!)).bars.map((b) => b.date);
const plugin = createPlugin({
  db_url: url,
  symbols: symbolList.split(','),
  training: TINY_TRAINING,
  triggers: { enabled: triggers === 'on', full_mode: 'fast', runner: 'inline' },
});
await plugin.activate(host);
for (const session of sessions) {
  await host.closeSession(session, calendar[calendar.indexOf(session) + 1]);
  await plugin.idle();
}
await plugin.trainingIdle();
await plugin.deactivate();
console.log(stage ? 'finished: the kill did not happen' : 'finished');
