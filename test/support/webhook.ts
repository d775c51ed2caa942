/** A real webhook for the alert tests: a node `http` server on 127.0.0.1 that records every request. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP status to answer with, or 'hang': never answer. */
export type Reply = number | 'hang';

export interface Webhook {
  url: string;
  port: number;
  /** Requests in arrival order: when (performance.now()), content type, parsed body and the reply given. */
  received: Array<{ at: number; contentType: string | undefined; body: unknown; reply: Reply }>;
  /** Answers from now on with `replies` (the n-th request from now gets replies[n]; the last repeats). */
  answer(replies: Reply[]): void;
  /** Ids of the alerts it answered 2xx to, in order. */
  accepted(): number[];
  close(): Promise<void>;
}

/** A webhook answering the n-th request with `replies[n]` (the last reply repeats); `port` 0 picks a free one. */
export async function startWebhook(replies: Reply[], port = 0): Promise<Webhook> {
  const received: Webhook['received'] = [];
  let plan = replies;
  let planFrom = 0;
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString()));
    req.on('end', () => {
      const reply = plan[Math.min(received.length - planFrom, plan.length - 1)]!;
      received.push({ at: performance.now(), contentType: req.headers['content-type'], body: JSON.parse(data), reply });
      if (reply !== 'hang') res.writeHead(reply).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hook`,
    port: bound,
    received,
    answer(next) {
      plan = next;
      planFrom = received.length;
    },
    accepted: () => received.filter((r) => typeof r.reply === 'number' && r.reply < 300).map((r) => (r.body as { id: number }).id),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on (a webhook that is down): bound once, then released. */
export async function closedPort(): Promise<number> {
  const probe = await startWebhook([200]);
  await probe.close();
  return probe.port;
}

/** Resolves once `condition` holds, polling; throws after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
