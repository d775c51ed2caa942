/** Runs the real, compiled `lstm-signals` executable (dist/, built by the suite's set-up), as a user would. */
import { execFile } from 'node:child_process';
import path from 'node:path';

export const BIN = path.join(import.meta.dirname, '../../dist/adapters/standalone/cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, LSTM_DB_URL: '', ...options.env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
