import { InvocationContext, LogHandler } from '@azure/functions';
import { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QueueRegistration, registeredQueues } from '../shared/registrations';
import {
  decodeQueueMessage,
  ensureQueue,
  onQueueMessageSent,
  poisonSuffix,
  storageQueueName,
} from '../shared/store/queues';
import { storageAccount } from '../shared/store/storageAccount';
import { hostStorageConnectionName } from '../shared/storageSettings';
import { hostLogHandler } from './hostLog';

/**
 * The local host's queue triggers: what the Functions runtime's Storage queue listener does, on
 * Azurite or any account. Each registered queue is polled (randomised exponential back-off up to
 * `maxPollingInterval` while it is empty); messages are fetched `batchSize` at a time and held
 * invisible while their handler runs (renewed at half the lease, so a slow handler keeps them); a
 * handled message is deleted; a failed one becomes visible again after `visibilityTimeout`, and on
 * its `maxDequeueCount`-th failure (or if it cannot be decoded) moves to `{queue}-poison`. At most
 * `batchSize + newBatchThreshold` messages of a queue run at once. Several hosts polling one queue
 * share its messages: the storage service hands each visible message to one receiver at a time.
 */

export interface QueueListenerSettings {
  batchSize: number;
  newBatchThreshold: number;
  maxDequeueCount: number;
  /** How long a failed message stays invisible before its retry (host.json `visibilityTimeout`). */
  retryDelayMs: number;
  maxPollingIntervalMs: number;
  /** How long a fetched message is hidden from other receivers while handled (the runtime's 10 minutes). */
  leaseMs: number;
}

/** The runtime's defaults (Storage queues extension 5.x, Consumption plans: one vCPU for newBatchThreshold). */
export const runtimeQueueDefaults: QueueListenerSettings = {
  batchSize: 16,
  newBatchThreshold: 8,
  maxDequeueCount: 5,
  retryDelayMs: 0,
  maxPollingIntervalMs: 60_000,
  leaseMs: 10 * 60_000,
};

/** The runtime's shortest wait between polls. */
const minimumPollingIntervalMs = 100;

/** host.json durations: a .NET TimeSpan ("00:00:02", "1.00:00:00", "00:00:00.500") or milliseconds. */
export function parseHostDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(value.trim());
  if (!match) return undefined;
  const [, days, hours, minutes, seconds, fraction] = match;
  return (
    (((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 +
    Math.round(Number(`0.${fraction ?? 0}`) * 1000)
  );
}

/** The queue settings of host.json's `extensions.queues`, over the runtime's defaults. */
export function queueSettingsFromHostJson(hostJson: unknown): QueueListenerSettings {
  const queues =
    (hostJson as { extensions?: { queues?: Record<string, unknown> } } | undefined)?.extensions?.queues ?? {};
  const batchSize = typeof queues.batchSize === 'number' ? queues.batchSize : runtimeQueueDefaults.batchSize;
  return {
    batchSize,
    newBatchThreshold:
      typeof queues.newBatchThreshold === 'number' ? queues.newBatchThreshold : Math.floor(batchSize / 2),
    maxDequeueCount:
      typeof queues.maxDequeueCount === 'number' ? queues.maxDequeueCount : runtimeQueueDefaults.maxDequeueCount,
    retryDelayMs: parseHostDuration(queues.visibilityTimeout) ?? runtimeQueueDefaults.retryDelayMs,
    maxPollingIntervalMs: parseHostDuration(queues.maxPollingInterval) ?? runtimeQueueDefaults.maxPollingIntervalMs,
    leaseMs: runtimeQueueDefaults.leaseMs,
  };
}

/** The settings of this project's host.json, read from the project root (beside dist/ when compiled). */
export function projectQueueSettings(): QueueListenerSettings {
  for (const candidate of [path.join(__dirname, '..', 'host.json'), path.join(__dirname, '..', '..', 'host.json')]) {
    try {
      return queueSettingsFromHostJson(JSON.parse(readFileSync(candidate, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return runtimeQueueDefaults;
}

export interface QueueListeners {
  stop(): Promise<void>;
}

const seconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | undefined)?.statusCode;
}

class QueueListener {
  private running = true;
  private readonly inFlight = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  private woken = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly client: QueueClient;
  readonly queueName: string;
  readonly done: Promise<void>;

  constructor(
    private readonly registration: QueueRegistration,
    private readonly settings: QueueListenerSettings,
    private readonly log: LogHandler,
  ) {
    this.queueName = storageQueueName(registration.queueName);
    this.client = storageAccount().queue(this.queueName);
    this.done = this.poll();
  }

  /** A message was sent to this queue from this process: poll when it becomes visible. */
  notify(visibleInSeconds: number): void {
    if (visibleInSeconds <= 0) return this.wakeUp();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.wakeUp();
    }, visibleInSeconds * 1000);
    this.timers.add(timer);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.timers.forEach(clearTimeout);
    this.wakeUp();
    await this.done;
    await Promise.all(this.inFlight);
  }

  private async poll(): Promise<void> {
    const { batchSize, newBatchThreshold, maxPollingIntervalMs } = this.settings;
    let backoffMs = minimumPollingIntervalMs;
    while (this.running) {
      if (this.inFlight.size > newBatchThreshold) {
        await Promise.race(this.inFlight);
        continue;
      }
      let messages: DequeuedMessageItem[] = [];
      try {
        const response = await this.client.receiveMessages({
          numberOfMessages: batchSize,
          visibilityTimeout: seconds(this.settings.leaseMs),
        });
        messages = response.receivedMessageItems;
      } catch (error) {
        // A queue nobody has sent to yet does not exist: that is an empty queue.
        if (statusOf(error) !== 404) this.log('error', `Polling queue ${this.queueName} failed`, error);
      }
      for (const message of messages) {
        const handling = this.handle(message).finally(() => this.inFlight.delete(handling));
        this.inFlight.add(handling);
      }
      if (messages.length) {
        backoffMs = minimumPollingIntervalMs;
      } else {
        // Randomised exponential back-off, as the runtime's polling strategy.
        backoffMs = Math.min(maxPollingIntervalMs, backoffMs * 2 * (0.8 + Math.random() * 0.4));
      }
      if (this.running) await this.sleep(messages.length ? minimumPollingIntervalMs : backoffMs);
    }
  }

  /** Waits `ms`, or less when woken; a wake-up that came while polling is not lost. */
  private async sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    this.woken = false;
  }

  private wakeUp(): void {
    this.woken = true;
    this.wake?.();
  }

  private async handle(message: DequeuedMessageItem): Promise<void> {
    const { name, handler } = this.registration;
    const queueName = this.queueName;
    const { maxDequeueCount, leaseMs, retryDelayMs } = this.settings;
    let popReceipt = message.popReceipt;
    try {
      // The runtime checks before invoking too: a message past its count was already given up on.
      if (message.dequeueCount > maxDequeueCount) return await this.moveToPoison(message, popReceipt);
      const value = decodeQueueMessage(message.messageText);
      if (value === undefined) {
        this.log('error', `Message ${message.messageId} on ${queueName} is not base64: moving it to the poison queue.`);
        return await this.moveToPoison(message, popReceipt);
      }
      const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: name,
        logHandler: this.log,
        triggerMetadata: {
          id: message.messageId,
          dequeueCount: message.dequeueCount,
          popReceipt,
          insertionTime: message.insertedOn.toISOString(),
          expirationTime: message.expiresOn.toISOString(),
          nextVisibleTime: message.nextVisibleOn.toISOString(),
          queueTrigger: Buffer.from(message.messageText, 'base64').toString('utf8'),
        },
        options: {
          trigger: { type: 'queueTrigger', name: 'queueTrigger', queueName, connection: hostStorageConnectionName },
        },
      });

      // Keep the message hidden while its handler runs; each renewal returns the receipt the next call needs.
      let renewal = Promise.resolve();
      const renewTimer = setInterval(() => {
        renewal = renewal.then(async () => {
          popReceipt = (await this.client.updateMessage(message.messageId, popReceipt, undefined, seconds(leaseMs)))
            .popReceipt!;
        });
        renewal.catch((error: unknown) => this.log('warning', `Renewing message ${message.messageId} failed`, error));
      }, leaseMs / 2);
      let failure: unknown;
      try {
        await handler(value, context);
      } catch (error) {
        failure = error ?? new Error('handler failed');
      } finally {
        clearInterval(renewTimer);
        await renewal.catch(() => undefined);
      }

      if (failure === undefined) {
        await this.client.deleteMessage(message.messageId, popReceipt);
      } else if (message.dequeueCount >= maxDequeueCount) {
        context.error(
          `${name} failed on message ${message.messageId} (dequeue count ${message.dequeueCount}): moving it to ${queueName}${poisonSuffix}.`,
          failure,
        );
        await this.moveToPoison(message, popReceipt);
      } else {
        context.warn(
          `${name} failed on message ${message.messageId} (dequeue count ${message.dequeueCount}).`,
          failure,
        );
        await this.client.updateMessage(message.messageId, popReceipt, undefined, seconds(retryDelayMs));
      }
    } catch (error) {
      // Most often the lease ran out and another receiver owns the message now; it is handled there.
      this.log('warning', `Settling message ${message.messageId} on ${queueName} failed`, error);
    }
  }

  private async moveToPoison(message: DequeuedMessageItem, popReceipt: string): Promise<void> {
    const poison = await ensureQueue(`${this.queueName}${poisonSuffix}`);
    await poison.sendMessage(message.messageText, { messageTimeToLive: -1 });
    await this.client.deleteMessage(message.messageId, popReceipt);
  }
}

/** Starts one listener per registered queue; `stop` lets messages being handled finish. */
export function startQueueListeners(
  options: {
    registrations?: readonly QueueRegistration[];
    settings?: Partial<QueueListenerSettings>;
    log?: LogHandler;
  } = {},
): QueueListeners {
  const settings = { ...projectQueueSettings(), ...options.settings };
  const listeners = (options.registrations ?? registeredQueues()).map(
    (registration) => new QueueListener(registration, settings, options.log ?? hostLogHandler()),
  );
  const unsubscribe = onQueueMessageSent((queueName, visibleInSeconds) =>
    listeners
      .filter((listener) => listener.queueName === queueName)
      .forEach((listener) => listener.notify(visibleInSeconds)),
  );
  return {
    stop: async () => {
      unsubscribe();
      await Promise.all(listeners.map((listener) => listener.stop()));
    },
  };
}
