import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { LocalHost, loadFunctions, startLocalHost, TlsOptions } from '../../scripts/localHost';
import { QueueListenerSettings } from '../../scripts/queueListener';

/** Test helpers that talk to the service only over HTTP, as a client would. */

import { roles } from '../fixtures';

export { roles };

export const relationshipsUrl = '/v1.0/tenantRelationships/delegatedAdminRelationships';

export interface TestHost {
  url: string;
  close(): Promise<void>;
}

/** Queue settings for tests that run queue triggers: short polls and leases, so tests take seconds. */
export const testQueueSettings: Partial<QueueListenerSettings> = { maxPollingIntervalMs: 200, leaseMs: 5000 };

export interface TestHostOptions {
  /** Serve HTTPS with this certificate. */
  tls?: TlsOptions;
  /** Run the queue triggers (SPEC §15.4 jobs) on the test Azurite. */
  runQueues?: boolean | Partial<QueueListenerSettings>;
}

const queueOption = (options: TestHostOptions) =>
  options.runQueues === true ? testQueueSettings : options.runQueues || undefined;

/**
 * One local host for the test file: started before its tests, closed after them. The client and
 * the host's URL are ready inside tests (and in `beforeAll` hooks declared after this call).
 * `runQueues`: the host also runs the queue triggers (webhook delivery), polling often.
 */
export function useTestHost(options: { runQueues?: boolean } = {}): { client: Client; host: { readonly url: string } } {
  const client = new Client('');
  let started: TestHost | undefined;
  beforeAll(async () => {
    started = await startTestHost(options);
    client.baseUrl = started.url;
  });
  afterAll(() => started?.close());
  return {
    client,
    host: {
      get url() {
        return started?.url ?? '';
      },
    },
  };
}

/** Loads the functions into this test file's module registry and serves them on a free port (HTTPS with `tls`). */
export async function startTestHost(options: TestHostOptions = {}): Promise<TestHost> {
  loadFunctions(path.join(__dirname, '..', '..', 'functions'));
  const host: LocalHost = await startLocalHost({
    port: 0,
    runTimers: false,
    tls: options.tls,
    runQueues: queueOption(options),
  });
  return { url: host.url, close: () => host.close() };
}

/** A job run of one instance: the job's id and the `now` it runs at; its report. */
export type InstanceJobRunner = (job: string, now: import('luxon').DateTime) => Promise<Record<string, unknown>>;

/**
 * A second instance of the service in this process: the local host and every function file are
 * loaded afresh into a module registry of their own (no shared caches, clock or configuration
 * objects), on the same storage account, as a second host process would be. `runJob` runs one of
 * its jobs, as its timer would.
 */
export async function startIsolatedTestHost(
  options: TestHostOptions & {
    /** Runs inside the instance's module registry: a `require` there reaches that instance's modules. */
    inside?: () => void;
  } = {},
): Promise<TestHost & { runJob: InstanceJobRunner }> {
  let isolated: typeof import('../../scripts/localHost') | undefined;
  let jobs: typeof import('../../shared/app/jobs') | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    isolated = require('../../scripts/localHost') as typeof import('../../scripts/localHost');
    isolated.loadFunctions(path.join(__dirname, '..', '..', 'functions'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jobs = require('../../shared/app/jobs') as typeof import('../../shared/app/jobs');
    options.inside?.();
  });
  const host = await (isolated as typeof import('../../scripts/localHost')).startLocalHost({
    port: 0,
    runTimers: false,
    runQueues: queueOption(options),
  });
  const registry = jobs as typeof import('../../shared/app/jobs');
  return {
    url: host.url,
    close: () => host.close(),
    runJob: (id, now) => {
      const job = registry.findJob(id);
      if (!job) throw new Error(`unknown job ${id}`);
      return registry.runDueJob(job, now);
    },
  };
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Raw body, sent as is (for malformed input tests). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface CallResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export class Client {
  /** `dispatcher`: an undici Agent that trusts an HTTPS test host's certificate. */
  constructor(
    public baseUrl: string,
    private readonly dispatcher?: Dispatcher,
  ) {}

  async call<T = Record<string, unknown>>(
    method: string,
    url: string,
    options: CallOptions = {},
  ): Promise<CallResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const target = url.startsWith('http') ? url : `${this.baseUrl}${url}`;
    const response = await fetch(target, { method, headers, body, dispatcher: this.dispatcher });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async token(claims: {
    tid: string;
    oid?: string;
    roles?: string[];
    wids?: string[];
    groups?: string[];
    email?: string;
    appid?: string;
    acct?: 0 | 1;
  }): Promise<string> {
    const result = await this.call<{ access_token: string }>('POST', '/sandbox/tokens', { body: claims });
    if (result.status !== 200) throw new Error(`token minting failed: ${JSON.stringify(result.body)}`);
    return result.body.access_token;
  }

  /** A partner AdminAgent and a customer Global Administrator in two fresh tenants. */
  async tenants(): Promise<{ partnerTenantId: string; customerTenantId: string; partner: string; customer: string }> {
    const partnerTenantId = randomUUID();
    const customerTenantId = randomUUID();
    return {
      partnerTenantId,
      customerTenantId,
      partner: await this.token({ tid: partnerTenantId, roles: ['AdminAgent'] }),
      customer: await this.token({ tid: customerTenantId, wids: [roles.globalAdministrator] }),
    };
  }

  async createRelationship(token: string, overrides: Record<string, unknown> = {}): Promise<CallResult> {
    return this.call('POST', relationshipsUrl, {
      token,
      body: {
        displayName: `Rel ${randomUUID().slice(0, 8)}`,
        duration: 'P730D',
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
        ...overrides,
      },
    });
  }

  async request(token: string, relationshipId: string, action: string): Promise<CallResult> {
    return this.call('POST', `${relationshipsUrl}/${relationshipId}/requests`, { token, body: { action } });
  }

  /** Creates, locks and approves a relationship: it comes back `active`. */
  async activeRelationship(
    partner: string,
    customer: string,
    customerTenantId: string,
    overrides: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    const created = await this.createRelationship(partner, { customer: { tenantId: customerTenantId }, ...overrides });
    if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
    const id = String(created.body.id);
    if ((await this.request(partner, id, 'lockForApproval')).status !== 201) throw new Error('lock failed');
    const approved = await this.request(customer, id, 'approve');
    if (approved.status !== 201) throw new Error(`approve failed: ${JSON.stringify(approved.body)}`);
    return (await this.call('GET', `${relationshipsUrl}/${id}`, { token: partner })).body;
  }
}

/** Asserts a Graph error envelope with the given status and code. */
export function expectGraphError(result: CallResult, status: number, code: string): void {
  expect({ status: result.status, code: (result.body as { error?: { code?: string } })?.error?.code }).toEqual({
    status,
    code,
  });
  const error = (result.body as { error: { message: string; innerError: Record<string, string> } }).error;
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.innerError['request-id']).toBe(result.headers.get('request-id'));
}

/** Returns the result if it has the expected status; otherwise fails with the body, which says why. */
export function expectOk<T>(result: CallResult<T>, status: number): CallResult<T> {
  if (result.status !== status) {
    throw new Error(`expected ${status}, got ${result.status}: ${JSON.stringify(result.body)}`);
  }
  return result;
}
