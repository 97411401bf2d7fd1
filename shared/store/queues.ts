import { QueueClient } from '@azure/storage-queue';
import { config } from '../config';
import { isStatus } from './tables';
import { storageAccount } from './storageAccount';

/**
 * Storage queues: names, the message format the Functions runtime's queue trigger expects, and
 * sending. Consumers are registered with `registerQueue` (shared/registrations.ts); see
 * docs/queues.md.
 */

/** Storage queue names: 3–63 lower-case letters, digits and single hyphens, starting and ending alphanumeric. */
const queueNamePattern = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
/** What the runtime appends for messages that failed `maxDequeueCount` times. */
export const poisonSuffix = '-poison';

/**
 * The storage queue behind a logical queue name: the deployment's prefix (TABLE_PREFIX, lower-cased)
 * first, so deployments and test files sharing an account never read each other's messages.
 */
export function storageQueueName(name: string): string {
  const prefix = config().tablePrefix.toLowerCase();
  const full = prefix ? `${prefix}-${name}` : name;
  if (!queueNamePattern.test(full) || !queueNamePattern.test(`${full}${poisonSuffix}`)) {
    throw new Error(
      `Queue "${full}" is not a valid storage queue name with room for "${poisonSuffix}": use lower-case letters, digits and single hyphens.`,
    );
  }
  return full;
}

/** The runtime's default `messageEncoding` is base64: a message is the base64 of its UTF-8 text. */
export function encodeQueueMessage(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64');
}

/**
 * What a queue trigger's handler receives for a message, as the Node.js worker hands it over: the
 * decoded text, parsed as JSON when it is JSON. Undefined when the text is not base64 (the runtime
 * moves such a message to the poison queue).
 */
export function decodeQueueMessage(messageText: string): unknown {
  const compact = messageText.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) return undefined;
  const text = Buffer.from(compact, 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A queue message holds at most 64 KiB of text. */
const maxMessageChars = 64 * 1024;

const created = new Map<string, Promise<unknown>>();

/** Creates the queue on first use in this process (as the runtime's queue output binding does). */
export function ensureQueue(queueName: string): Promise<QueueClient> {
  const client = storageAccount().queue(queueName);
  let ready = created.get(queueName);
  if (!ready) {
    ready = client.createIfNotExists().catch((error: unknown) => {
      created.delete(queueName);
      throw error;
    });
    created.set(queueName, ready);
  }
  return ready.then(() => client);
}

type SentListener = (queueName: string, visibleInSeconds: number) => void;
const sentListeners = new Set<SentListener>();

/**
 * Called for every message this process sends, so a local queue listener polls at once instead of
 * waiting out its back-off (the runtime does the same for messages its own bindings add).
 */
export function onQueueMessageSent(listener: SentListener): () => void {
  sentListeners.add(listener);
  return () => sentListeners.delete(listener);
}

export interface SendOptions {
  /** Seconds before the message becomes visible (a delayed retry); at most 7 days. */
  visibilityDelaySeconds?: number;
}

/** Sends one JSON message to a logical queue (see `storageQueueName`), creating the queue if needed. */
export async function sendQueueMessage(name: string, payload: unknown, options: SendOptions = {}): Promise<void> {
  const queueName = storageQueueName(name);
  const text = encodeQueueMessage(payload);
  if (text.length > maxMessageChars) {
    throw new Error(`A message for queue "${queueName}" is ${text.length} characters encoded; the limit is 65536.`);
  }
  const delay = Math.max(0, Math.ceil(options.visibilityDelaySeconds ?? 0));
  const send = async () =>
    (await ensureQueue(queueName)).sendMessage(text, {
      visibilityTimeout: delay || undefined,
      // Never expire: a message nobody could handle ends in the poison queue, not silently gone.
      messageTimeToLive: -1,
    });
  try {
    await send();
  } catch (error) {
    // The queue was deleted since this process created it: create it again, once.
    if (!isStatus(error, 404)) throw error;
    created.delete(queueName);
    await send();
  }
  sentListeners.forEach((listener) => listener(queueName, delay));
}
