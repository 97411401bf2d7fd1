import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { verify, X509Certificate } from 'node:crypto';
import { Client, useTestHost } from './support';

/**
 * A webhook receiver for tests, as a partner would write one: it answers each POST as `respond`
 * says (200 by default), and checks every event's signature against the certificate it downloads
 * from X-MS-Certificate-Url, as Partner Center's documentation asks receivers to.
 */
export interface ReceivedEvent {
  eventId: string;
  headers: Record<string, string>;
  body: string;
  event: {
    EventName: string;
    ResourceUri: string;
    ResourceName: string;
    AuditUri: string | null;
    ResourceChangeUtcDate: string;
  };
  /** The signature checked out against the downloaded certificate. */
  verified: boolean;
  receivedAtMs: number;
}

/** What the receiver does with the n-th request (1-based) it gets for an event id. */
export type Respond = (attempt: number, event: ReceivedEvent) => { status: number } | 'hang';

export interface Receiver {
  url: string;
  /** Every request received, in order (retries included). */
  requests: ReceivedEvent[];
  /** The first request of each event id, in the order they first came. */
  events(): ReceivedEvent[];
  waitFor(predicate: (receiver: Receiver) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const certificates = new Map<string, Promise<X509Certificate>>();

async function certificateAt(url: string): Promise<X509Certificate> {
  let loading = certificates.get(url);
  if (!loading) {
    loading = fetch(url).then(async (response) => {
      if (response.status !== 200) throw new Error(`certificate download failed: ${response.status}`);
      return new X509Certificate(Buffer.from(await response.arrayBuffer()));
    });
    // A failed download is tried again with the next event.
    loading.catch(() => certificates.delete(url));
    certificates.set(url, loading);
  }
  return loading;
}

/** Partner Center's receiver check: RSA-SHA256 over the raw body, with the certificate the event names. */
export async function verified(headers: Record<string, string>, body: Buffer): Promise<boolean> {
  const authorization = headers.authorization;
  const signature = authorization?.startsWith('Signature ')
    ? authorization.slice('Signature '.length)
    : headers['x-ms-signature'];
  const certificateUrl = headers['x-ms-certificate-url'];
  if (!signature || !certificateUrl || headers['x-ms-signature-algorithm'] !== 'rsa-sha256') return false;
  const certificate = await certificateAt(certificateUrl);
  return verify('sha256', body, certificate.publicKey, Buffer.from(signature, 'base64'));
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startReceiver(respond: Respond = () => ({ status: 200 })): Promise<Receiver> {
  const requests: ReceivedEvent[] = [];
  const attempts = new Map<string, number>();
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(', ') : String(value),
        ]),
      );
      const received: ReceivedEvent = {
        eventId: headers['x-event-id'],
        headers,
        body: body.toString('utf8'),
        event: JSON.parse(body.toString('utf8')),
        verified: await verified(headers, body).catch(() => false),
        receivedAtMs: Date.now(),
      };
      requests.push(received);
      const attempt = (attempts.get(received.eventId) ?? 0) + 1;
      attempts.set(received.eventId, attempt);
      const answer = respond(attempt, received);
      if (answer === 'hang') {
        hanging.push(response);
        return;
      }
      response.writeHead(answer.status, { 'content-type': 'text/plain' });
      response.end(answer.status < 300 ? 'ok' : 'receiver refused');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/events`,
    requests,
    events: () => {
      const seen = new Set<string>();
      return requests.filter((request) => !seen.has(request.eventId) && seen.add(request.eventId));
    },
    async waitFor(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(receiver)) {
        if (Date.now() > deadline) {
          const names = requests.map((request) => request.event.EventName).join(', ');
          throw new Error(`the receiver did not get what was expected in ${timeoutMs} ms; it got: ${names}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      hanging.forEach((response) => response.destroy());
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/** A test file's host, running the queue triggers, and its receivers, closed (receivers first) after its tests. */
export interface WebhookTestBed {
  host: { readonly url: string };
  client: Client;
  receiver(respond?: Respond): Promise<Receiver>;
}

export function useWebhookTestBed(): WebhookTestBed {
  const receivers: Receiver[] = [];
  // Declared before the host's: jest runs afterAll hooks in order, and a hanging receiver closed
  // first lets the attempt waiting on it end at once, so the host closes without waiting for it.
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });
  const { client, host } = useTestHost({ runQueues: true });
  return {
    client,
    host,
    async receiver(respond?: Respond) {
      const started = await startReceiver(respond);
      receivers.push(started);
      return started;
    },
  };
}
