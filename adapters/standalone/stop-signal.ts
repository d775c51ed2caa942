/** Long-running commands (`serve`, `worker`) stop on the first SIGINT or SIGTERM. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Resolves on the first SIGINT or SIGTERM, leaving no handler behind. */
export function stopRequested(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      for (const s of STOP_SIGNALS) process.off(s, stop);
      resolve(signal);
    };
    for (const s of STOP_SIGNALS) process.on(s, stop);
  });
}
