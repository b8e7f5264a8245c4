import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  status: number;
  body: Record<string, unknown>;
  idempotencyKey?: string;
  at: number;
}

/** A local webhook endpoint that records every JSON post; it answers 503 to the first `failures`, as a flaky endpoint would. */
export async function startWebhookReceiver(failures = 0) {
  const received: ReceivedPost[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const status = received.length < failures ? 503 : 200;
      const key = req.headers['idempotency-key'];
      received.push({ status, body: JSON.parse(text), idempotencyKey: typeof key === 'string' ? key : undefined, at: Date.now() });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    /** The bodies of the posts, in arrival order. */
    bodies: () => received.map((r) => r.body),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
