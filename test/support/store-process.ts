/**
 * A process that opens a store, for the fault tests: forked with the database URL as its argument, it loads the
 * store's code, says `ready`, waits for `go` (so several start at the same instant), opens the store with
 * migrations and reports the outcome before exiting.
 */
import { Store } from '../../plugin/store/store.js';

export type StoreProcessMessage = { type: 'ready' } | { type: 'opened'; ms: number } | { type: 'failed'; error: string; ms: number };

const send = (message: StoreProcessMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

process.once('message', async () => {
  const started = Date.now();
  try {
    const store = await Store.open({ url: process.argv[2] });
    await store.close();
    await send({ type: 'opened', ms: Date.now() - started });
  } catch (error) {
    await send({ type: 'failed', error: error instanceof Error ? error.message : String(error), ms: Date.now() - started });
  }
  process.disconnect();
});
await send({ type: 'ready' });
