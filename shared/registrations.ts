import { app, HttpHandler, HttpMethod, StorageQueueHandler, TimerHandler } from '@azure/functions';
import { loggedJobRun } from './log';
import { storageQueueName } from './store/queues';
import { hostStorageConnectionName } from './storageSettings';

/**
 * One list of function registrations, read by both the Azure Functions runtime (through
 * `app.http`/`app.timer`/`app.storageQueue`) and the project's local host, so the two can never disagree.
 */
export interface HttpRegistration {
  name: string;
  methods: HttpMethod[];
  /** Azure Functions route template, without the (empty) route prefix. */
  route: string;
  handler: HttpHandler;
}

export interface TimerRegistration {
  name: string;
  /** NCRONTAB expression with seconds, as Azure Functions timers take it. */
  schedule: string;
  handler: TimerHandler;
}

const httpRegistrations: HttpRegistration[] = [];
const timerRegistrations: TimerRegistration[] = [];

// Outside the Functions worker `app.*` only prints "test mode" warnings; skip them there.
const inFunctionsRuntime = ((): boolean => {
  try {
    // The worker injects this module; the same probe @azure/functions itself uses.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@azure/functions-core');
    return true;
  } catch {
    return false;
  }
})();

const graphV1Prefix = 'v1.0/';

/**
 * Registers an HTTP function. A Graph route (`v1.0/...`) is also served under `beta/...` by the
 * same handler (SPEC §14: CIPP calls `/beta` for nearly all of its GDAP calls, and Graph's beta and
 * v1.0 schemas are the same for these resources); handlers answer with the version called.
 */
export function registerHttp(registration: HttpRegistration): void {
  const twins = registration.route.startsWith(graphV1Prefix)
    ? [
        registration,
        {
          ...registration,
          name: `${registration.name}Beta`,
          route: `beta/${registration.route.slice(graphV1Prefix.length)}`,
        },
      ]
    : [registration];
  for (const each of twins) {
    httpRegistrations.push(each);
    if (inFunctionsRuntime) {
      app.http(each.name, { methods: each.methods, route: each.route, authLevel: 'anonymous', handler: each.handler });
    }
  }
}

export function registerTimer(registration: TimerRegistration): void {
  timerRegistrations.push(registration);
  if (inFunctionsRuntime) {
    app.timer(registration.name, { schedule: registration.schedule, handler: registration.handler });
  }
}

export function registeredHttp(): readonly HttpRegistration[] {
  return httpRegistrations;
}

export function registeredTimers(): readonly TimerRegistration[] {
  return timerRegistrations;
}

export interface QueueRegistration {
  name: string;
  /** The logical queue name (docs/queues.md); the storage queue is `storageQueueName(queueName)`. */
  queueName: string;
  /** Receives the message's JSON value; throwing leaves the message for a retry, then the poison queue. */
  handler: StorageQueueHandler;
}

const queueRegistrations: QueueRegistration[] = [];

/** A queue-triggered function on the host storage account (`AzureWebJobsStorage`), as the runtime binds it. */
export function registerQueue(registration: QueueRegistration): void {
  // Resolved (and validated) now, so a bad name fails at start-up rather than on the first message.
  const queueName = storageQueueName(registration.queueName);
  const logged: QueueRegistration = {
    ...registration,
    // One log line per message handled, as for every request and timer run.
    handler: (message, context) =>
      loggedJobRun(context, registration.name, async () => {
        await registration.handler(message, context);
        return { messageId: context.triggerMetadata?.id, dequeueCount: context.triggerMetadata?.dequeueCount };
      }),
  };
  queueRegistrations.push(logged);
  if (inFunctionsRuntime) {
    app.storageQueue(logged.name, { queueName, connection: hostStorageConnectionName, handler: logged.handler });
  }
}

export function registeredQueues(): readonly QueueRegistration[] {
  return queueRegistrations;
}
