/**
 * Progress of a walk-forward backtest on stderr: which session of how many, its date, the trainings done so far
 * and an ETA from the mean time per session so far. At most one line per `intervalSeconds` (0: every session),
 * plus the last session's line; on a terminal one line is rewritten in place, on a pipe each is a line of its own.
 * stdout is never touched, so `--json` stays parseable.
 */
import type { WalkForwardProgress } from './walk-forward.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface BacktestProgressOptions {
  /** Least time between two lines, in seconds; 0 prints every session. */
  intervalSeconds: number;
  stream?: ProgressStream;
  /** Milliseconds, monotonic (tests and the CLI use the default). */
  now?: () => number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A duration as people read it: `40 s`, `14 min`, `2 h 05 min`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

function trainings({ trainings: done, failedTrainings: failed }: WalkForwardProgress): string {
  return `${plural(done, 'training')}${failed > 0 ? ` (${failed} failed)` : ''}`;
}

/**
 * One progress line: `backtest: session 120/2520 2011-06-14, 3 trainings, ETA 14 min`; the last session's ends
 * `done in 2 h 05 min` instead, and before the first session: `backtest: 1 initial training done in 4 s, 84 sessions to run`.
 */
export function formatProgress(progress: WalkForwardProgress, elapsedSeconds: number): string {
  const { index, total, session } = progress;
  if (index === 0) return `backtest: ${plural(progress.trainings, 'initial training')} done in ${formatDuration(elapsedSeconds)}, ${plural(total, 'session')} to run`;
  const tail = index === total ? `done in ${formatDuration(elapsedSeconds)}` : `ETA ${formatDuration((elapsedSeconds / index) * (total - index))}`;
  return `backtest: session ${index}/${total} ${session}, ${trainings(progress)}, ${tail}`;
}

/** The walk-forward's `onProgress`: throttles and writes the lines. */
export function backtestProgress(options: BacktestProgressOptions): (progress: WalkForwardProgress) => void {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const started = now();
  // The ETA counts from the first session: the initial trainings are not a session's cost.
  let sessionsStarted = started;
  let lastLine = -Infinity;
  return (progress) => {
    const at = now();
    const last = progress.index === progress.total;
    if (progress.index === 0) sessionsStarted = at;
    else if (!last && (at - lastLine) / 1000 < options.intervalSeconds) return;
    lastLine = at;
    // Before the first session and after the last: the time of the whole run so far; in between, of the sessions (for the ETA).
    const line = formatProgress(progress, (at - (progress.index === 0 || last ? started : sessionsStarted)) / 1000);
    if (!stream.isTTY) stream.write(`${line}\n`);
    else stream.write(`\r${line}\x1b[K${progress.index === 0 || last ? '\n' : ''}`);
  };
}
