/**
 * Training progress on stderr, so that long work is never silent and stdout stays the result: on a terminal a
 * line that updates every epoch; on a pipe or in a log a line when each fit starts and one when it ends.
 */
import type { TrainingProgress } from '../../plugin/index.js';

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: TrainingProgress) => void {
  const live = Boolean(stream.isTTY);
  return (p) => {
    const where = `[${p.symbol}] ${p.stage} ${p.step}`;
    if (p.epoch === undefined) {
      stream.write(`${live ? '\r\x1b[2K' : ''}${where}\n`);
    } else if (live) {
      stream.write(`\r\x1b[2K${where} epoch ${p.epoch}/${p.epochs} loss ${p.loss?.toFixed(4)}${p.epoch === p.epochs ? '\n' : ''}`);
    } else {
      if (p.epoch === 1) stream.write(`${where} — ${p.epochs} epochs…\n`);
      if (p.epoch === p.epochs) stream.write(`${where} — done, loss ${p.loss?.toFixed(4)}\n`);
    }
  };
}
