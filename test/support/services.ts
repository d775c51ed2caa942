/**
 * The services some suites need beyond Node: a MySQL/MariaDB server, a Redis server and Debian's Chromium. Outside CI a suite
 * whose service is missing is skipped, and the run says so once (the global set-up prints `missingServices`);
 * with CI=true every one is required.
 */
import { existsSync } from 'node:fs';

export const MYSQL_URL = process.env.LSTM_TEST_MYSQL_URL || undefined;
export const REDIS_URL = process.env.LSTM_TEST_REDIS_URL || undefined;
export const CHROMIUM = '/usr/bin/chromium';
export const IN_CI = process.env.CI === 'true';

/** One line per missing service, saying what is skipped and how to get it. */
export function missingServices(): string[] {
  return [
    ...(MYSQL_URL ? [] : ['LSTM_TEST_MYSQL_URL not set (e.g. mysql://root@127.0.0.1:3306/lstm_ci on a running MariaDB or MySQL): the MySQL suites are SKIPPED']),
    ...(REDIS_URL ? [] : ['LSTM_TEST_REDIS_URL not set (e.g. redis://127.0.0.1:6379 on a running Redis): the BullMQ queue suites are SKIPPED']),
    ...(existsSync(CHROMIUM) ? [] : [`${CHROMIUM} not found (apt-get install -y chromium): the panel's browser suite is SKIPPED`]),
  ];
}
