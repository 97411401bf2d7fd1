import { Json } from '../e2e/fleet';
import { Receiver, startReceiver } from '../e2e/webhookReceiver';
import { alertSays, PortalPage, statusSays, useTestbed } from './browser';
import { partnerAgent, Party } from './seed';

// The whole retry schedule in well under a second (SPEC §16 allows fractions). Read when the host loads.
process.env.WEBHOOK_RETRY_SECONDS = '0.01';
process.env.WEBHOOK_RETRY_MAX_SECONDS = '0.05';

/**
 * The webhooks page in a real browser (SPEC §16, §17), with the delivery queue running and a
 * receiver in this process: a registration made with the events picker, test events delivered and
 * failed, the third in a minute refused, the dead letter listed, the registration replaced and
 * deleted. Each effect is confirmed through the API or at the receiver.
 */
describe('webhooks page', () => {
  const receivers: Receiver[] = [];
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });
  const bed = useTestbed({ runQueues: true });

  const openAs = (partner: Party): Promise<PortalPage> =>
    bed.openAs({ tenantId: partner.tenantId, as: 'Partner Admin Agent' }, '/portal/webhooks');

  const registration = async (partner: Party) =>
    bed.client.call<Json>('GET', '/webhooks/v1/registration', { token: partner.token });

  it('registers a receiver with the chosen events, sends test events and shows how each went, and lists the dead letter', async () => {
    let refuse = false;
    const receiver = await startReceiver(() => ({ status: refuse ? 500 : 200 }));
    receivers.push(receiver);
    const partner = await partnerAgent(bed.client, 'Northwind Partners');
    const tab = await bed.open();
    // The page asks for the registration first: a tenant without one is answered 404.
    tab.expectFailure(/\/webhooks\/v1\/registration$/, 404);
    tab.expectFailure(/\/webhooks\/v1\/registration\/validationEvents$/, 429);
    const { page } = tab;
    await page.goto(`${bed.host.url}/portal/webhooks`);
    const { signIn } = await import('./browser');
    await signIn(page, { tenantId: partner.tenantId, as: 'Partner Admin Agent' });
    await page.getByText('This tenant has no webhook registration yet.').waitFor();
    expect(await page.getByRole('button', { name: 'Send a test event' }).isDisabled()).toBe(true);

    await page.getByLabel('Receiver URL').fill(receiver.url);
    // test-created is chosen by default; add two Partner Center events and one of this service's own.
    await page.getByRole('checkbox', { name: 'granular-admin-relationship-approved' }).check();
    await page.getByRole('checkbox', { name: 'granular-admin-access-assignment-created' }).check();
    const own = page.getByRole('group', { name: "This service's own events" });
    await own.getByRole('checkbox', { name: 'granular-admin-relationship-expiring' }).check();
    await page.getByText('4 events chosen.').waitFor();
    await page.getByRole('button', { name: 'Create registration' }).click();
    await statusSays(page, `Registration created: 4 events to ${receiver.url}.`);
    const created = await registration(partner);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ WebhookUrl: receiver.url });
    expect([...(created.body.WebhookEvents as string[])].sort()).toEqual(
      [
        'granular-admin-access-assignment-created',
        'granular-admin-relationship-approved',
        'granular-admin-relationship-expiring',
        'test-created',
      ].sort(),
    );

    const tests = page.getByRole('table', { name: 'Test events sent from this tab' }).locator('tbody tr');
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await statusSays(page, /Test event sent \(correlation id [0-9a-f-]{36}\)/);
    await tests.first().getByRole('cell', { name: 'Delivered', exact: true }).waitFor();
    await tests.first().getByText('HTTP 200: ok').waitFor();
    await receiver.waitFor((r) => r.requests.some((request) => request.event.EventName === 'test-created'));
    expect(receiver.requests.every((request) => request.verified)).toBe(true);

    // The receiver starts refusing: ten attempts, then the event is dead-lettered.
    refuse = true;
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await tests.nth(0).getByRole('cell', { name: 'Failed', exact: true }).waitFor({ timeout: 20_000 });
    await tests.nth(0).getByRole('cell', { name: '10', exact: true }).waitFor();
    await tests.nth(0).getByText('HTTP 500: receiver refused').waitFor();
    await tests.nth(1).getByRole('cell', { name: 'Delivered', exact: true }).waitFor();

    // At most two a minute.
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await alertSays(page, /The test event was not sent: At most two validation events a minute/);

    const failed = page.getByRole('table', { name: 'Deliveries: failed' });
    await page.getByRole('button', { name: 'Refresh deliveries' }).click();
    const row = failed.locator('tbody tr').filter({ hasText: 'test-created' });
    await row.getByRole('cell', { name: '10', exact: true }).waitFor();
    await row.getByText('HTTP 500: receiver refused').waitFor();
    const deadLetters = await bed.client.call<{ value: Json[] }>('GET', '/webhooks/v1/deliveries?status=failed', {
      token: partner.token,
    });
    expect(deadLetters.body.value).toEqual([expect.objectContaining({ eventName: 'test-created', attempts: 10 })]);
  });

  it('replaces the registration (URL, events, signature header) and deletes it, after asking', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const partner = await partnerAgent(bed.client, 'Northwind Partners');
    const created = await bed.client.call('POST', '/webhooks/v1/registration', {
      token: partner.token,
      body: { WebhookUrl: 'https://partner.example/old', WebhookEvents: ['granular-admin-relationship-approved'] },
    });
    expect(created.status).toBe(200);

    const { page } = await openAs(partner);
    await page.getByText(`Subscriber id ${String(created.body.SubscriberId)}`).waitFor();
    expect(await page.getByLabel('Receiver URL').inputValue()).toBe('https://partner.example/old');
    // Without test-created the page says why no test event can be sent.
    await page.getByText('The registration must include test-created.').waitFor();
    await page.getByLabel('Receiver URL').fill(receiver.url);
    await page.getByRole('button', { name: 'Choose all Partner Center events' }).click();
    await page.getByRole('checkbox', { name: 'granular-admin-relationship-approved' }).uncheck();
    await page.getByRole('checkbox', { name: /Send the signature in x-ms-signature/ }).check();
    await page.getByRole('button', { name: 'Save registration' }).click();
    await statusSays(page, /Registration saved: \d+ events to /);
    const saved = (await registration(partner)).body;
    expect(saved.WebhookUrl).toBe(receiver.url);
    expect(saved.WebhookEvents).toContain('test-created');
    expect(saved.WebhookEvents).toContain('granular-admin-relationship-terminated');
    expect(saved.WebhookEvents).not.toContain('granular-admin-relationship-approved');
    expect(saved.WebhookEvents).not.toContain('support-access-request-created');

    // The page reads the choice back (the registration says so when it is on).
    await page.reload();
    await page.getByText(`Subscriber id ${String(created.body.SubscriberId)}`).waitFor();
    expect(await page.getByRole('checkbox', { name: /Send the signature in x-ms-signature/ }).isChecked()).toBe(true);

    // The signature now comes in x-ms-signature, and no Authorization header.
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await receiver.waitFor((r) => r.requests.length === 1);
    expect(receiver.requests[0].headers['x-ms-signature']).toBeTruthy();
    expect(receiver.requests[0].headers.authorization).toBeUndefined();
    expect(receiver.requests[0].verified).toBe(true);

    await page.getByRole('button', { name: 'Delete registration' }).click();
    await page
      .getByRole('dialog', { name: 'Delete the webhook registration?' })
      .getByRole('button', { name: 'Delete registration' })
      .click();
    await statusSays(page, 'Registration deleted: no more events are sent.');
    await page.getByText('This tenant has no webhook registration yet.').waitFor();
    expect((await registration(partner)).status).toBe(404);
  });
});
