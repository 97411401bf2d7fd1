import { InvocationContext, LogHandler } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { QueueListenerSettings, startQueueListeners } from '../../scripts/queueListener';
import { QueueRegistration } from '../../shared/registrations';
import { decodeQueueMessage, ensureQueue, sendQueueMessage, storageQueueName } from '../../shared/store/queues';

/**
 * The local host's queue triggers on a real Azurite, behaving as the Functions runtime's queue
 * listener: each message handled once, failures retried up to maxDequeueCount and then moved to the
 * poison queue, and several hosts sharing one queue.
 */

/** Fast polling and a one-second lease, so retries and renewals take a second rather than minutes. */
const fast: Partial<QueueListenerSettings> = { maxPollingIntervalMs: 200, leaseMs: 1000 };
const warnings: unknown[][] = [];
const quiet: LogHandler = (level, ...args) => {
  if (level !== 'information' && level !== 'trace' && level !== 'debug') warnings.push([level, ...args]);
};

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the queue listener');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A fresh logical queue for each test. */
const newQueue = (): string => `q${randomUUID().slice(0, 8)}`;

function registration(
  queueName: string,
  handler: (message: unknown, context: InvocationContext) => unknown,
): QueueRegistration {
  return { name: `handle-${queueName}`, queueName, handler: async (message, context) => handler(message, context) };
}

async function visibleMessages(storageName: string): Promise<string[]> {
  const queue = await ensureQueue(storageName);
  const peeked = await queue.peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.map((item) => item.messageText);
}

async function approximateCount(storageName: string): Promise<number> {
  const queue = await ensureQueue(storageName);
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('queue triggers on Azurite', () => {
  it('hands each message to its handler once, with the runtime’s trigger metadata, and deletes it', async () => {
    const name = newQueue();
    const seen: { value: unknown; meta: Record<string, unknown> }[] = [];
    const listeners = startQueueListeners({
      registrations: [registration(name, (value, context) => seen.push({ value, meta: context.triggerMetadata! }))],
      settings: fast,
      log: quiet,
    });
    try {
      for (let n = 0; n < 3; n++) await sendQueueMessage(name, { n, text: 'héllo' });
      await until(() => seen.length === 3);
      // Longer than a lease: a message not deleted would be handed out again by now.
      await sleep(1300);
    } finally {
      await listeners.stop();
    }
    expect(seen.map((entry) => entry.value)).toEqual(
      expect.arrayContaining([0, 1, 2].map((n) => ({ n, text: 'héllo' }))),
    );
    expect(seen).toHaveLength(3);
    for (const { meta } of seen) {
      expect(meta).toMatchObject({ dequeueCount: 1, id: expect.any(String), popReceipt: expect.any(String) });
      expect(JSON.parse(meta.queueTrigger as string)).toMatchObject({ text: 'héllo' });
    }
    expect(await approximateCount(storageQueueName(name))).toBe(0);
  });

  it('retries a failing message and moves it to {queue}-poison after its fifth failure', async () => {
    const name = newQueue();
    const attempts: number[] = [];
    const listeners = startQueueListeners({
      registrations: [
        registration(name, (_value, context) => {
          attempts.push(context.triggerMetadata!.dequeueCount as number);
          throw new Error('receiver down');
        }),
      ],
      settings: fast,
      log: quiet,
    });
    const poison = `${storageQueueName(name)}-poison`;
    try {
      await sendQueueMessage(name, { event: 'e1' });
      await until(async () => (await approximateCount(poison)) === 1);
    } finally {
      await listeners.stop();
    }
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    const [poisoned] = await visibleMessages(poison);
    expect(decodeQueueMessage(poisoned)).toEqual({ event: 'e1' });
    expect(await approximateCount(storageQueueName(name))).toBe(0);
    expect(warnings.some(([level]) => level === 'error')).toBe(true);
  });

  it('keeps a message that succeeds on a retry out of the poison queue', async () => {
    const name = newQueue();
    const attempts: number[] = [];
    const listeners = startQueueListeners({
      registrations: [
        registration(name, (_value, context) => {
          const count = context.triggerMetadata!.dequeueCount as number;
          attempts.push(count);
          if (count < 3) throw new Error('not yet');
        }),
      ],
      settings: fast,
      log: quiet,
    });
    try {
      await sendQueueMessage(name, { event: 'e2' });
      await until(() => attempts.length === 3);
      await sleep(300);
    } finally {
      await listeners.stop();
    }
    expect(attempts).toEqual([1, 2, 3]);
    expect(await approximateCount(storageQueueName(name))).toBe(0);
    expect(await approximateCount(`${storageQueueName(name)}-poison`)).toBe(0);
  });

  it('moves a message that is not base64 to the poison queue without calling the handler', async () => {
    const name = newQueue();
    let calls = 0;
    const queue = await ensureQueue(storageQueueName(name));
    await queue.sendMessage('{"plain": "json, not base64"}');
    const listeners = startQueueListeners({
      registrations: [registration(name, () => calls++)],
      settings: fast,
      log: quiet,
    });
    try {
      await until(async () => (await approximateCount(`${storageQueueName(name)}-poison`)) === 1);
    } finally {
      await listeners.stop();
    }
    expect(calls).toBe(0);
  });

  it('holds back a message sent with a visibility delay until the delay has passed', async () => {
    const name = newQueue();
    const handledAt: number[] = [];
    const listeners = startQueueListeners({
      registrations: [registration(name, () => handledAt.push(Date.now()))],
      settings: fast,
      log: quiet,
    });
    const sentAt = Date.now();
    try {
      await sendQueueMessage(name, { later: true }, { visibilityDelaySeconds: 1 });
      await until(() => handledAt.length === 1);
    } finally {
      await listeners.stop();
    }
    expect(handledAt[0] - sentAt).toBeGreaterThanOrEqual(900);
  });

  it('renews the lease of a slow handler, so a second host never gets its message', async () => {
    const name = newQueue();
    const handledBy: string[] = [];
    const slow = (host: string) =>
      registration(name, async () => {
        handledBy.push(host);
        await sleep(1600); // longer than the 1 s lease
      });
    const first = startQueueListeners({ registrations: [slow('first')], settings: fast, log: quiet });
    const second = startQueueListeners({ registrations: [slow('second')], settings: fast, log: quiet });
    try {
      await sendQueueMessage(name, { slow: true });
      await until(() => handledBy.length === 1);
      await until(async () => (await approximateCount(storageQueueName(name))) === 0);
      await sleep(300);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    expect(handledBy).toHaveLength(1);
    expect(await approximateCount(storageQueueName(name))).toBe(0);
  });

  it('shares one queue between two hosts without handling a message twice', async () => {
    const name = newQueue();
    const handled = new Map<number, string[]>();
    const host = (label: string) =>
      registration(name, async (value) => {
        const { n } = value as { n: number };
        handled.set(n, [...(handled.get(n) ?? []), label]);
        await sleep(20);
      });
    // Small batches, so neither host can take the whole queue in one receive.
    const settings = { ...fast, batchSize: 4, newBatchThreshold: 2 };
    const messages = 40;
    await Promise.all(Array.from({ length: messages }, (_, n) => sendQueueMessage(name, { n })));
    const a = startQueueListeners({ registrations: [host('a')], settings, log: quiet });
    const b = startQueueListeners({ registrations: [host('b')], settings, log: quiet });
    try {
      await until(() => handled.size === messages);
      await sleep(300);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect([...handled.values()].every((hosts) => hosts.length === 1)).toBe(true);
    const byHost = [...handled.values()].flat();
    expect(byHost.filter((label) => label === 'a').length).toBeGreaterThan(0);
    expect(byHost.filter((label) => label === 'b').length).toBeGreaterThan(0);
    expect(await approximateCount(storageQueueName(name))).toBe(0);
  });
});
