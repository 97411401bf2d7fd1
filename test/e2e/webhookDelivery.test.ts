import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { expectOk, relationshipsUrl } from './support';
import { Respond, useWebhookTestBed } from './webhookReceiver';

// The whole retry schedule in well under a second (fractions are allowed, SPEC §16), and a
// timeout longer than any request here takes: a request that waited for its delivery would show.
// Read when the host loads.
process.env.WEBHOOK_RETRY_SECONDS = '0.01';
process.env.WEBHOOK_RETRY_MAX_SECONDS = '0.05';
process.env.WEBHOOK_TIMEOUT_SECONDS = '5';

/**
 * Delivery under a failing or hanging receiver (SPEC §16): retries with back-off, the same event
 * id and body on every attempt, the order of a resource's events kept through retries, the tenth
 * failure dead-lettered and listed, and API requests untouched by a receiver that never answers.
 */
describe('webhook delivery', () => {
  const bed = useWebhookTestBed();

  async function subscribed(respond: Respond, events: string[]) {
    const receiver = await bed.receiver(respond);
    const tenants = await bed.client.tenants();
    expectOk(
      await bed.client.call('POST', '/webhooks/v1/registration', {
        token: tenants.partner,
        body: { WebhookUrl: receiver.url, WebhookEvents: events },
      }),
      200,
    );
    return { receiver, ...tenants };
  }

  it('retries a failing receiver and delivers once on the third attempt, the resource’s next event after it', async () => {
    const { receiver, partner, customer, customerTenantId } = await subscribed(
      (attempt, event) =>
        event.event.EventName === 'granular-admin-relationship-approved' && attempt <= 2
          ? { status: 500 }
          : { status: 200 },
      ['granular-admin-relationship-approved', 'granular-admin-relationship-activated'],
    );
    await bed.client.activeRelationship(partner, customer, customerTenantId);
    await receiver.waitFor((r) => r.events().length === 2);
    const sequence = receiver.requests.map((request) => request.event.EventName);
    expect(sequence).toEqual([
      'granular-admin-relationship-approved',
      'granular-admin-relationship-approved',
      'granular-admin-relationship-approved',
      'granular-admin-relationship-activated',
    ]);
    const attempts = receiver.requests.slice(0, 3);
    // One event: the same id, the same signed bytes, every time.
    expect(new Set(attempts.map((request) => request.eventId)).size).toBe(1);
    expect(new Set(attempts.map((request) => request.body)).size).toBe(1);
    expect(attempts.every((request) => request.verified)).toBe(true);
    // The back-off waited between attempts (10 ms, then 20 ms).
    expect(attempts[1].receivedAtMs - attempts[0].receivedAtMs).toBeGreaterThanOrEqual(9);
    expect(attempts[2].receivedAtMs - attempts[1].receivedAtMs).toBeGreaterThanOrEqual(19);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests).toHaveLength(4);
  });

  it('dead-letters an event after ten failed attempts and lists it with the last error', async () => {
    const { receiver, partner } = await subscribed(() => ({ status: 503 }), ['test-created']);
    const validation = expectOk(
      await bed.client.call('POST', '/webhooks/v1/registration/validationEvents', { token: partner }),
      200,
    );
    await receiver.waitFor((r) => r.requests.length === 10);
    const statusUrl = `/webhooks/v1/registration/validationEvents/${validation.body.correlationId}`;
    let status = await bed.client.call('GET', statusUrl, { token: partner });
    for (let wait = 0; status.body.status !== 'failed' && wait < 50; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await bed.client.call('GET', statusUrl, { token: partner });
    }
    expect(status.body.status).toBe('failed');
    expect(status.body.results).toHaveLength(10);
    expect((status.body.results as { responseCode: number }[]).every((result) => result.responseCode === 503)).toBe(
      true,
    );

    const failed = await bed.client.call('GET', '/webhooks/v1/deliveries?status=failed', { token: partner });
    expect(failed.status).toBe(200);
    expect(failed.body.value).toEqual([
      {
        eventId: receiver.requests[0].eventId,
        eventName: 'test-created',
        resourceUri: `${bed.host.url}${statusUrl}`,
        status: 'failed',
        attempts: 10,
        lastAttemptDateTime: expect.any(String),
        lastError: { responseCode: 503, message: 'receiver refused' },
      },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests).toHaveLength(10);
    expect((await bed.client.call('GET', '/webhooks/v1/deliveries?status=bogus', { token: partner })).status).toBe(400);
  });

  it('records a receiver that cannot be reached as a system error on each attempt', async () => {
    const tenants = await bed.client.tenants();
    // A port that was free a moment ago: nothing listens there, so the connection is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    await bed.client.call('POST', '/webhooks/v1/registration', {
      token: tenants.partner,
      body: { WebhookUrl: `http://127.0.0.1:${port}/events`, WebhookEvents: ['test-created'] },
    });
    const validation = await bed.client.call('POST', '/webhooks/v1/registration/validationEvents', {
      token: tenants.partner,
    });
    const statusUrl = `/webhooks/v1/registration/validationEvents/${validation.body.correlationId}`;
    let status = await bed.client.call('GET', statusUrl, { token: tenants.partner });
    for (let wait = 0; status.body.status !== 'failed' && wait < 100; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await bed.client.call('GET', statusUrl, { token: tenants.partner });
    }
    expect(status.body.status).toBe('failed');
    const results = status.body.results as { responseCode: number | null; systemError: string | null }[];
    expect(results).toHaveLength(10);
    expect(
      results.every((result) => result.responseCode === null && /ECONNREFUSED/.test(String(result.systemError))),
    ).toBe(true);
  });

  it('keeps API requests as fast as before while a receiver hangs', async () => {
    const { receiver, partner, customer, customerTenantId } = await subscribed(
      () => 'hang',
      ['granular-admin-relationship-approved', 'granular-admin-relationship-activated'],
    );
    const timeRequests = async (): Promise<number[]> => {
      const times: number[] = [];
      for (let index = 0; index < 5; index++) {
        const started = performance.now();
        await bed.client.activeRelationship(partner, customer, customerTenantId);
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b);
    };
    // Before the receiver hangs on anything: deliveries go nowhere yet (no relationship approved).
    const quiet = await bed.client.tenants();
    const baseline: number[] = [];
    for (let index = 0; index < 5; index++) {
      const started = performance.now();
      await bed.client.activeRelationship(quiet.partner, quiet.customer, quiet.customerTenantId);
      baseline.push(performance.now() - started);
    }
    baseline.sort((a, b) => a - b);

    const during = await timeRequests();
    // Deliveries were under way and hanging while the requests ran.
    await receiver.waitFor((r) => r.requests.length >= 5);
    expect(receiver.requests.length).toBeGreaterThanOrEqual(5);
    // Each approval answered without waiting for its event (a hanging attempt lasts 5 s), about as
    // fast as before (the machine is shared: a wide margin).
    expect(during[during.length - 1]).toBeLessThan(5000);
    expect(during[2]).toBeLessThan(baseline[2] * 3 + 250);
    const read = performance.now();
    expect((await bed.client.call('GET', `${relationshipsUrl}?$top=1`, { token: partner })).status).toBe(200);
    expect(performance.now() - read).toBeLessThan(1000);
  });
});
