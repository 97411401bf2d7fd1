import { Agent, createServer, IncomingMessage, request as httpRequest, Server, ServerResponse } from 'node:http';
import { freePort } from '../azurite';

/**
 * A counting proxy in front of one Azurite service (Tables or Queues): every request the host
 * sends to storage goes through it unchanged and is counted by kind, so a benchmark can say how
 * many storage round trips a unit of work costs, whatever the machine's load.
 */
export type CallKind =
  | 'point read'
  | 'query'
  | 'insert'
  | 'upsert'
  | 'merge'
  | 'delete'
  | 'transaction'
  | 'table'
  | 'sandbox clock'
  | 'webhook registrations'
  | 'queue send'
  | 'queue receive'
  | 'queue update'
  | 'queue delete'
  | 'queue other';

/** What one Table service request is, from its method and path. */
function tableKind(message: IncomingMessage): CallKind {
  const url = new URL(message.url ?? '/', 'http://proxy');
  const method = (message.method ?? 'GET').toUpperCase();
  const last = decodeURIComponent(url.pathname.split('/').pop() ?? '');
  if (last === '$batch') return 'transaction';
  if (/^Tables/.test(last)) return 'table';
  // The sandbox clock, re-read at most once a second in sandbox mode only: part of no operation.
  if (/^\w*Settings\(/.test(last)) return 'sandbox clock';
  // The webhook registrations, one query per READ_CACHE_SECONDS per instance (shared/store/webhooks.ts).
  if (/^\w*Webhooks\(\)$/.test(last) && /registrations/.test(url.searchParams.get('$filter') ?? '')) {
    return 'webhook registrations';
  }
  const keyed = /\(PartitionKey=.*,RowKey=.*\)$/.test(last);
  if (method === 'GET') return keyed ? 'point read' : 'query';
  if (method === 'POST') return 'insert';
  if (method === 'PUT') return 'upsert';
  if (method === 'MERGE' || method === 'PATCH') return 'merge';
  if (method === 'DELETE') return 'delete';
  return 'query';
}

/** What one Queue service request is: messages sent, received, updated (lease, retry) or deleted. */
function queueKind(message: IncomingMessage): CallKind {
  const url = new URL(message.url ?? '/', 'http://proxy');
  const method = (message.method ?? 'GET').toUpperCase();
  if (!/\/messages(\/|$)/.test(url.pathname)) return 'queue other';
  if (method === 'POST') return 'queue send';
  if (method === 'GET') return 'queue receive';
  if (method === 'PUT') return 'queue update';
  if (method === 'DELETE') return 'queue delete';
  return 'queue other';
}

/** Forwards every request to one Azurite service unchanged and counts it. */
export class CountingProxy {
  private readonly counts = new Map<CallKind, number>();
  private server: Server | undefined;
  // Connections to Azurite are kept alive, as the host's to a real account are (a fresh one per
  // call would add Azurite's connection set-up to every measured call). Node closes an idle one a
  // second before Azurite's announced `Keep-Alive: timeout=5`; a call that still meets a closing
  // socket is sent once more on a new one.
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  port = 0;

  constructor(
    private readonly target: number,
    private readonly service: 'table' | 'queue',
  ) {}

  async start(): Promise<this> {
    this.port = await freePort();
    this.server = createServer((incoming, outgoing) => {
      const kind = this.service === 'table' ? tableKind(incoming) : queueKind(incoming);
      this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => this.forward(incoming, outgoing, Buffer.concat(chunks), true));
    });
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', () => resolve()));
    return this;
  }

  private forward(incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer, mayRetry: boolean): void {
    const forward = httpRequest(
      {
        agent: this.agent,
        hostname: '127.0.0.1',
        port: this.target,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: `127.0.0.1:${this.target}` },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => {
      if (mayRetry && forward.reusedSocket && !outgoing.headersSent) {
        this.forward(incoming, outgoing, body, false);
        return;
      }
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    forward.end(body);
  }

  /** The counts since the last reset, by kind (the sandbox clock's and registrations' re-reads left out of the total). */
  snapshot(): { total: number; byKind: Partial<Record<CallKind, number>> } {
    const byKind = Object.fromEntries(this.counts) as Partial<Record<CallKind, number>>;
    const total = [...this.counts]
      .filter(([kind]) => kind !== 'sandbox clock' && kind !== 'webhook registrations')
      .reduce((sum, [, n]) => sum + n, 0);
    return { total, byKind };
  }

  reset(): void {
    this.counts.clear();
  }

  /** The counts since the last call, and a fresh start. */
  take(): Map<CallKind, number> {
    const taken = new Map(this.counts);
    this.counts.clear();
    return taken;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    this.agent.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
