import { Cron } from 'croner';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { lookupRoute } from '../../shared/http/routeTable';
import { registeredHttp, registeredQueues, registeredTimers, registerQueue } from '../../shared/registrations';
import { storageQueueName } from '../../shared/store/queues';
import { invoke, worker } from '../support/functionsCore';
import { entryPoints } from '../support/functionsWorker';
import { callHttp, functionNamed, httpFunction, triggerOf } from '../support/runtimeCalls';

/**
 * Proof that every function reaches the Azure Functions runtime with the binding it needs: the
 * function files are loaded as the worker loads them, with a stand-in for the worker's
 * `@azure/functions-core` module (test/support/functionsCore.ts), so the real `@azure/functions`
 * library turns each registration into the metadata the host indexes. Every HTTP route and method,
 * timer schedule and queue trigger must be there, valid, and the same as what the local host
 * serves; a few functions are then invoked through the library's own invocation model.
 */
jest.mock('@azure/functions-core', () => jest.requireActual('../support/functionsCore'), { virtual: true });

// The files of package.json's `main`, in its order, as the worker loads them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
for (const file of entryPoints()) require(file);
// A queue trigger of this test's own (the product's queue functions arrive with bulk jobs and webhooks).
const queueSeen: { message: unknown; metadata: unknown }[] = [];
registerQueue({
  name: 'runtimeTestQueue',
  queueName: 'runtime-test',
  handler: (message, context) => {
    queueSeen.push({ message, metadata: context.triggerMetadata });
  },
});

/** A request path that the route template matches, with a value for every parameter. */
function samplePath(route: string): string {
  return `/${route
    .split('/')
    // An optional value is left out (the site root's `{root:maxlength(0)?}` admits nothing else).
    .map((segment) => segment.replace(/\{[^}]*\?\}/g, '').replace(/\{[^}]*\}/g, 'a1b2c3d4-0000-4000-8000-000000000001'))
    .join('/')}`;
}

describe('what the Functions runtime receives', () => {
  it('the programming model is @azure/functions, registered once', () => {
    expect(worker.programmingModel?.name).toBe('@azure/functions');
    expect(worker.functions.size).toBe(registeredHttp().length + registeredTimers().length + registeredQueues().length);
  });

  it('package.json `main` loads telemetry first, then every function file', () => {
    const root = path.join(__dirname, '..', '..');
    const files = entryPoints().map((file) => path.relative(root, file));
    expect(files[0]).toBe(path.join('shared', 'telemetry.ts'));
    expect(files.filter((file) => file.startsWith('functions'))).toHaveLength(
      readdirSync(path.join(root, 'functions')).filter((file) => file.endsWith('.ts')).length,
    );
  });

  it('telemetry is off without APPLICATIONINSIGHTS_CONNECTION_STRING: the host keeps sending the logs', async () => {
    expect(process.env.APPLICATIONINSIGHTS_CONNECTION_STRING).toBeUndefined();
    const model = worker.programmingModel as unknown as { getCapabilities(d: object): Promise<Record<string, string>> };
    expect(await model.getCapabilities({})).not.toHaveProperty('WorkerOpenTelemetryEnabled');
    expect(worker.hooks.get('log') ?? []).toHaveLength(0);
  });

  it('every function name is one the host accepts, and unique ignoring case', () => {
    const names = [...worker.functions.values()].map(({ metadata }) => metadata.name);
    for (const name of names) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_-]{0,127}$/);
    expect(new Set(names.map((name) => name.toLowerCase())).size).toBe(names.length);
  });

  it('every HTTP route and method has an anonymous httpTrigger and an http output, as registered', () => {
    expect(registeredHttp().length).toBeGreaterThan(50);
    const routeMethods = new Set<string>();
    for (const registration of registeredHttp()) {
      const metadata = functionNamed(registration.name);
      const [, binding] = triggerOf(metadata);
      expect(binding).toMatchObject({
        type: 'httpTrigger',
        direction: 'in',
        authLevel: 'anonymous',
        route: registration.route,
        methods: registration.methods,
      });
      expect(metadata.bindings.$return).toMatchObject({ type: 'http', direction: 'out' });
      // Route templates ASP.NET Core routing (the host's) parses: no leading slash; parameters with
      // simple names; a segment mixing literal text and parameters has no optional or catch-all one.
      expect(binding.route).not.toMatch(/^\//);
      for (const segment of registration.route.split('/')) {
        const parameters = segment.match(/\{[^}]*\}/g) ?? [];
        for (const parameter of parameters) expect(parameter).toMatch(/^\{\*?[A-Za-z_]\w*(:[^}?]+)?\??\}$/);
        expect(segment.replace(/\{[^}]*\}/g, '')).not.toMatch(/[{}?]/);
        if (parameters.length && parameters[0] !== segment) expect(parameters.join('')).not.toMatch(/[*?]/);
      }
      for (const method of registration.methods) {
        const key = `${method} ${registration.route.toLowerCase()}`;
        expect(routeMethods.has(key)).toBe(false);
        routeMethods.add(key);
      }
    }
  });

  it('every HTTP binding is what the local host serves for that route and method', () => {
    for (const { metadata } of worker.functions.values()) {
      const [, binding] = triggerOf(metadata);
      if (binding.type !== 'httpTrigger') continue;
      for (const method of binding.methods as string[]) {
        const found = lookupRoute(method, samplePath(binding.route as string));
        expect(found).toMatchObject({ kind: 'found', registration: { name: metadata.name } });
      }
    }
  });

  it('every timer has a timerTrigger with its six-field NCRONTAB schedule', () => {
    expect(registeredTimers().length).toBeGreaterThan(0);
    for (const registration of registeredTimers()) {
      const [, binding] = triggerOf(functionNamed(registration.name));
      expect(binding).toMatchObject({ type: 'timerTrigger', direction: 'in', schedule: registration.schedule });
      expect(registration.schedule.trim().split(/\s+/)).toHaveLength(6);
      expect(() => new Cron(registration.schedule, { paused: true })).not.toThrow();
    }
  });

  it('every queue trigger names its storage queue on the host storage connection', () => {
    expect(registeredQueues().length).toBeGreaterThan(0);
    for (const registration of registeredQueues()) {
      const [, binding] = triggerOf(functionNamed(registration.name));
      expect(binding).toMatchObject({
        type: 'queueTrigger',
        direction: 'in',
        queueName: storageQueueName(registration.queueName),
        connection: 'AzureWebJobsStorage',
      });
    }
  });
});

/** The structured lines the app logged through the worker (shared/log.ts). */
function lines(event: string): Record<string, unknown>[] {
  return worker.logs
    .filter((entry) => entry.category === 'user' && entry.message.startsWith('{'))
    .map((entry) => JSON.parse(entry.message) as Record<string, unknown>)
    .filter((line) => line.event === event);
}
const requestLines = () => lines('request');

describe('invocations through the library’s invocation model', () => {
  const call = callHttp;

  it('answers an unauthenticated Graph request with 401 in the Graph envelope', async () => {
    const response = await call('GET', '/v1.0/tenantRelationships/delegatedAdminRelationships');
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: { code: expect.any(String), innerError: expect.any(Object) } });
    expect(response.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const [line] = requestLines().filter((entry) => entry.requestId === response.headers['request-id']);
    expect(line).toMatchObject({ status: 401, route: 'v1.0/tenantRelationships/delegatedAdminRelationships' });
    expect(line).not.toHaveProperty('tenantId');
  });

  it('mints a sandbox token and lists relationships under /beta with it', async () => {
    const tenantId = randomUUID();
    const minted = await call('POST', '/sandbox/tokens', { body: { tid: tenantId, roles: ['AdminAgent'] } });
    expect(minted.status).toBe(200);
    const token = (minted.body as { access_token: string }).access_token;
    const listed = await call('GET', '/beta/tenantRelationships/delegatedAdminRelationships', { token });
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ '@odata.context': expect.stringContaining('/beta/'), value: [] });

    // One structured line for the request, through the worker's log channel, without the token.
    expect(requestLines()).toContainEqual({
      event: 'request',
      function: httpFunction('GET', '/beta/tenantRelationships/delegatedAdminRelationships'),
      requestId: listed.headers['request-id'],
      method: 'GET',
      route: 'beta/tenantRelationships/delegatedAdminRelationships',
      status: 200,
      durationMs: expect.any(Number),
      tenantId,
    });
    expect(worker.logs.some((entry) => entry.message.includes(token))).toBe(false);
  });

  it('runs a timer with the timer input the host sends', async () => {
    const [timerName] = registeredTimers().map((timer) => timer.name);
    const name = triggerOf(functionNamed(timerName))[0];
    const timerInput = { Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false };
    const response = await invoke(timerName, {
      inputData: [{ name, data: { json: JSON.stringify(timerInput) } }],
    });
    expect(response.returnValue).toBeUndefined();
    expect(lines('job')).toContainEqual(
      expect.objectContaining({ event: 'job', job: timerName, outcome: 'succeeded', report: expect.any(Object) }),
    );
  });

  it('hands a queue handler the decoded JSON message and camel-cased trigger metadata', async () => {
    const name = triggerOf(functionNamed('runtimeTestQueue'))[0];
    await invoke('runtimeTestQueue', {
      // The host decodes the base64 message and passes its text; the library parses JSON.
      inputData: [{ name, data: { string: '{"eventId":"e1"}' } }],
      triggerMetadata: {
        DequeueCount: { json: '2' },
        Id: { string: 'message-1' },
        QueueTrigger: { string: '{"eventId":"e1"}' },
      },
    });
    expect(queueSeen).toEqual([
      { message: { eventId: 'e1' }, metadata: expect.objectContaining({ dequeueCount: 2, id: 'message-1' }) },
    ]);
    expect(lines('job')).toContainEqual(
      expect.objectContaining({
        job: 'runtimeTestQueue',
        outcome: 'succeeded',
        report: { messageId: 'message-1', dequeueCount: 2 },
      }),
    );
  });
});
