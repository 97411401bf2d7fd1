import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { extensionEventNames, partnerCenterEventNames, webhookEventNames } from '../../shared/domain/webhooks';
import { expectGraphError, expectOk, relationshipsUrl, roles } from './support';
import { ReceivedEvent, useWebhookTestBed, verified } from './webhookReceiver';

/**
 * Partner Center webhooks end to end (SPEC §16): registrations over HTTP, the lifecycle of a
 * relationship driven by requests and timers, and real receivers that check every signature
 * against the certificate the service serves.
 */
describe('webhooks', () => {
  const bed = useWebhookTestBed();

  const receiver = () => bed.receiver();

  const register = (token: string, body: Record<string, unknown>, method = 'POST') =>
    bed.client.call(method, '/webhooks/v1/registration', { token, body });
  const allEventsBut = (...left: string[]) => webhookEventNames.filter((name) => !left.includes(name));
  const names = (events: ReceivedEvent[]) => events.map((event) => event.event.EventName);

  describe('registration', () => {
    it('lists the events as a bare array, naming this service’s own in X-Extension-Events', async () => {
      const { partner } = await bed.client.tenants();
      const listed = await bed.client.call<string[]>('GET', '/webhooks/v1/registration/events', { token: partner });
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual([...partnerCenterEventNames, ...extensionEventNames]);
      expect(listed.headers.get('x-extension-events')?.split(',')).toEqual([...extensionEventNames]);
    });

    it('creates one registration per tenant (200, then 409), reads, replaces and deletes it', async () => {
      const { partner, partnerTenantId } = await bed.client.tenants();
      const reader = await bed.client.token({ tid: partnerTenantId, roles: ['HelpdeskAgent'] });
      const body = { WebhookUrl: 'https://receiver.example.com/events', WebhookEvents: ['test-created'] };
      const created = await register(partner, body);
      expect(created.status).toBe(200);
      expect(created.body).toEqual({
        SubscriberId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        WebhookUrl: body.WebhookUrl,
        WebhookEvents: ['test-created'],
      });
      expectGraphError(await register(partner, body), 409, 'conflict');
      expect((await bed.client.call('GET', '/webhooks/v1/registration', { token: reader })).body).toEqual(created.body);
      expectGraphError(await register(reader, body, 'PUT'), 403, 'Authorization_RequestDenied');

      // Property names bind in any case, as Partner Center's do.
      const replaced = await register(
        partner,
        { webhookUrl: 'https://other.example.com/hook', webhookEvents: ['granular-admin-relationship-approved'] },
        'PUT',
      );
      expect(replaced.body).toEqual({
        SubscriberId: created.body.SubscriberId,
        WebhookUrl: 'https://other.example.com/hook',
        WebhookEvents: ['granular-admin-relationship-approved'],
      });
      expect((await bed.client.call('DELETE', '/webhooks/v1/registration', { token: partner })).status).toBe(204);
      expectGraphError(
        await bed.client.call('GET', '/webhooks/v1/registration', { token: partner }),
        404,
        'ResourceNotFound',
      );
      expectGraphError(await register(partner, body, 'PUT'), 404, 'ResourceNotFound');
    });

    it('refuses unknown events, plain http to other hosts, and bodies of the wrong shape, storing nothing', async () => {
      const { partner } = await bed.client.tenants();
      const url = 'https://receiver.example.com/events';
      expectGraphError(
        await register(partner, { WebhookUrl: url, WebhookEvents: ['no-such-event'] }),
        400,
        'badRequest',
      );
      expectGraphError(await register(partner, { WebhookUrl: url, WebhookEvents: [] }), 400, 'badRequest');
      expectGraphError(
        await register(partner, { WebhookUrl: 'http://receiver.example.com/events', WebhookEvents: ['test-created'] }),
        400,
        'badRequest',
      );
      expectGraphError(
        await register(partner, { WebhookUrl: 'not a url', WebhookEvents: ['test-created'] }),
        400,
        'badRequest',
      );
      expectGraphError(await register(partner, { WebhookUrl: url }), 400, 'badRequest');
      expectGraphError(
        await register(partner, { WebhookUrl: url, WebhookEvents: ['test-created'], Extra: true }),
        400,
        'badRequest',
      );
      expectGraphError(
        await bed.client.call('GET', '/webhooks/v1/registration', { token: partner }),
        404,
        'ResourceNotFound',
      );
      // Loopback http is a developer's receiver, allowed in sandbox mode.
      const local = await register(partner, {
        WebhookUrl: 'http://127.0.0.1:9/events',
        WebhookEvents: ['test-created'],
      });
      expect(local.status).toBe(200);
    });

    it('lets only the AdminAgent or a Global Administrator write, and readers read', async () => {
      const tenantId = randomUUID();
      const sales = await bed.client.token({ tid: tenantId, roles: ['SalesAgent'] });
      const globalAdministrator = await bed.client.token({ tid: tenantId, wids: [roles.globalAdministrator] });
      const body = { WebhookUrl: 'https://receiver.example.com/events', WebhookEvents: ['test-created'] };
      expectGraphError(await register(sales, body), 403, 'Authorization_RequestDenied');
      expect((await register(globalAdministrator, body)).status).toBe(200);
      expectGraphError(
        await bed.client.call('GET', '/webhooks/v1/registration', { token: sales }),
        403,
        'Authorization_RequestDenied',
      );
      expect((await bed.client.call('GET', '/webhooks/v1/registration')).status).toBe(401);
    });
  });

  describe('validation events', () => {
    it('sends a signed test-created event, reports its status and results, and allows two a minute', async () => {
      const { partner, partnerTenantId } = await bed.client.tenants();
      const target = await receiver();
      await register(partner, { WebhookUrl: target.url, WebhookEvents: ['test-created'] });
      const first = await bed.client.call('POST', '/webhooks/v1/registration/validationEvents', { token: partner });
      expect(first.status).toBe(200);
      const correlationId = String(first.body.correlationId);
      await target.waitFor((r) => r.requests.length === 1);
      const [received] = target.requests;
      expect(received.verified).toBe(true);
      expect(received.event).toEqual({
        EventName: 'test-created',
        ResourceUri: `${bed.host.url}/webhooks/v1/registration/validationEvents/${correlationId}`,
        ResourceName: 'test',
        AuditUri: null,
        ResourceChangeUtcDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      expect(received.headers['x-ms-certificate-url']).toBe(`${bed.host.url}/webhooks/v1/certificate`);
      // The check does fail for a body that is not the one signed.
      expect(await verified(received.headers, Buffer.from(received.body.replace('test', 'Test')))).toBe(false);

      const statusUrl = `/webhooks/v1/registration/validationEvents/${correlationId}`;
      let status = await bed.client.call('GET', statusUrl, { token: partner });
      for (let wait = 0; status.body.status === 'Submitted' && wait < 50; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = await bed.client.call('GET', statusUrl, { token: partner });
      }
      expect(status.body).toEqual({
        correlationId,
        partnerId: partnerTenantId,
        status: 'completed',
        callbackUrl: target.url,
        results: [{ responseCode: 200, responseMessage: 'ok', systemError: null, dateTimeUtc: expect.any(String) }],
      });

      expect(
        (await bed.client.call('POST', '/webhooks/v1/registration/validationEvents', { token: partner })).status,
      ).toBe(200);
      const third = await bed.client.call('POST', '/webhooks/v1/registration/validationEvents', { token: partner });
      expectGraphError(third, 429, 'tooManyRequests');
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(third.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      // Another tenant has its own allowance.
      const other = await bed.client.tenants();
      await register(other.partner, { WebhookUrl: target.url, WebhookEvents: ['test-created'] });
      expect(
        (await bed.client.call('POST', '/webhooks/v1/registration/validationEvents', { token: other.partner })).status,
      ).toBe(200);
    });

    it('needs a registration that includes test-created', async () => {
      const { partner } = await bed.client.tenants();
      expectGraphError(
        await bed.client.call('POST', '/webhooks/v1/registration/validationEvents', { token: partner }),
        404,
        'ResourceNotFound',
      );
      await register(partner, {
        WebhookUrl: 'https://receiver.example.com/e',
        WebhookEvents: ['granular-admin-relationship-approved'],
      });
      expectGraphError(
        await bed.client.call('POST', '/webhooks/v1/registration/validationEvents', { token: partner }),
        400,
        'badRequest',
      );
      expectGraphError(
        await bed.client.call('GET', `/webhooks/v1/registration/validationEvents/${randomUUID()}`, { token: partner }),
        404,
        'ResourceNotFound',
      );
    });
  });

  describe('other paths that make changes', () => {
    it('sends the events of changes made by $batch items, as of plain requests', async () => {
      const { partner, customer, customerTenantId } = await bed.client.tenants();
      const target = await receiver();
      await register(partner, { WebhookUrl: target.url, WebhookEvents: ['granular-admin-relationship-approved'] });
      const created = expectOk(
        await bed.client.createRelationship(partner, { customer: { tenantId: customerTenantId } }),
        201,
      );
      expectOk(await bed.client.request(partner, String(created.body.id), 'lockForApproval'), 201);
      const batch = await bed.client.call<{ responses: { id: string; status: number }[] }>('POST', '/beta/$batch', {
        token: customer,
        body: {
          requests: [
            {
              id: '1',
              method: 'POST',
              url: `/tenantRelationships/delegatedAdminRelationships/${created.body.id}/requests`,
              headers: { 'Content-Type': 'application/json' },
              body: { action: 'approve' },
            },
          ],
        },
      });
      expect(batch.body.responses[0].status).toBe(201);
      await target.waitFor((r) => r.events().length === 1);
      expect(target.events()[0].event).toMatchObject({
        EventName: 'granular-admin-relationship-approved',
        ResourceUri: `${bed.host.url}${relationshipsUrl}/${created.body.id}`,
      });
      expect(target.events()[0].verified).toBe(true);
    });
  });

  describe('support access requests', () => {
    const serviceSupportAdministrator = roles.serviceSupportAdministrator;
    const microsoftTenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';

    it('tells each tenant only what it may see: the removal reaches the resource tenant alone', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const receiverOf = { a: await receiver(), b: await receiver() };
      for (const [tenant, target] of [
        [a, receiverOf.a],
        [b, receiverOf.b],
      ] as const) {
        const admin = await bed.client.token({ tid: tenant, wids: [roles.globalAdministrator] });
        await register(admin, {
          WebhookUrl: target.url,
          WebhookEvents: webhookEventNames.filter((name) => name.startsWith('support-')),
        });
      }
      const oid = randomUUID();
      const expertise = `Identity ${oid.slice(0, 8)}`;
      await bed.client.call('PUT', `/sandbox/supportEngineers/${oid}`, {
        body: { displayName: 'Engineer', expertise: [expertise] },
      });
      const engineer = await bed.client.token({ tid: microsoftTenantId, oid, roles: ['SupportEngineer'] });
      const email = `admin-${oid.slice(0, 8)}@contoso.example`;
      const inA = await bed.client.token({ tid: a, wids: [serviceSupportAdministrator], email });
      const inB = await bed.client.token({ tid: b, wids: [serviceSupportAdministrator], email });

      const filed = expectOk(
        await bed.client.call('POST', '/v1.0/support/requests', {
          token: inA,
          body: {
            title: 'Sign-in fails',
            description: 'Since Monday.',
            category: expertise,
            resourceTenantId: b,
            allowAdvancedDiagnostics: false,
          },
        }),
        201,
      );
      const asked = expectOk(
        await bed.client.call('POST', '/v1.0/support/accessRequests', {
          token: engineer,
          body: { supportRequestId: filed.body.id, resourceTenantId: b, justification: 'Read sign-in policies' },
        }),
        201,
      );
      expectOk(
        await bed.client.call('POST', `/v1.0/support/accessRequests/${asked.body.id}/approve`, {
          token: inA,
          headers: { 'x-resource-tenant-authorization': `Bearer ${inB}` },
        }),
        200,
      );
      const approval = (await bed.client.call('GET', '/v1.0/support/accessApprovals', { token: inB })).body as {
        value: { id: string }[];
      };
      const approvalId = approval.value[0].id;
      expectOk(
        await bed.client.call('POST', `/v1.0/support/accessApprovals/${approvalId}/remove`, { token: inB }),
        200,
      );

      await receiverOf.a.waitFor((r) => r.events().length >= 2);
      await receiverOf.b.waitFor((r) => r.events().length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const uris = (events: ReceivedEvent[]) => events.map((event) => [event.event.EventName, event.event.ResourceUri]);
      expect(uris(receiverOf.a.events())).toEqual([
        ['support-access-request-created', `${bed.host.url}/v1.0/support/accessRequests/${asked.body.id}`],
        ['support-access-request-approved', `${bed.host.url}/v1.0/support/accessRequests/${asked.body.id}`],
      ]);
      expect(uris(receiverOf.b.events())).toEqual([
        ['support-access-request-approved', `${bed.host.url}/v1.0/support/accessApprovals/${approvalId}`],
        ['support-access-request-removed', `${bed.host.url}/v1.0/support/accessApprovals/${approvalId}`],
      ]);
      expect([...receiverOf.a.requests, ...receiverOf.b.requests].every((event) => event.verified)).toBe(true);

      const removed = receiverOf.b.events()[1];
      const admin = await bed.client.token({ tid: b, wids: [roles.globalAdministrator] });
      const record = expectOk(await bed.client.call('GET', String(removed.event.AuditUri), { token: admin }), 200);
      expect(record.body).toMatchObject({
        resourceType: 'support_access_approval',
        customerId: b,
        operationType: 'remove_support_access_approval',
      });
      expect(JSON.parse(String(record.body.resourceNewValue))).toMatchObject({ id: approvalId, status: 'removed' });
      const aAdmin = await bed.client.token({ tid: a, wids: [roles.globalAdministrator] });
      expectGraphError(
        await bed.client.call('GET', String(removed.event.AuditUri), { token: aAdmin }),
        404,
        'ResourceNotFound',
      );
    });
  });

  describe('the lifecycle', () => {
    const t0 = DateTime.fromISO('2026-03-01T00:00:00Z', { zone: 'utc' });
    const setClock = (instant: DateTime) =>
      bed.client.call('PUT', '/sandbox/clock', { body: { now: instant.toISO() } });
    const runJob = async (job: string) =>
      expect((await bed.client.call('POST', `/sandbox/jobs/${job}`)).status).toBe(200);
    afterAll(() => bed.client.call('PUT', '/sandbox/clock', { body: { now: null } }));

    it('sends every event once, signed, to the tenants entitled to it and subscribed to it', async () => {
      await setClock(t0);
      const { partner, customer, partnerTenantId, customerTenantId } = await bed.client.tenants();
      const other = await bed.client.tenants();
      const partnerReceiver = await receiver();
      const customerReceiver = await receiver();
      const otherReceiver = await receiver();
      // The partner leaves one event out; the customer takes relationship events; another partner everything.
      const left = 'granular-admin-access-assignment-activated';
      expect(
        (await register(partner, { WebhookUrl: partnerReceiver.url, WebhookEvents: allEventsBut(left) })).status,
      ).toBe(200);
      await register(customer, {
        WebhookUrl: customerReceiver.url,
        WebhookEvents: webhookEventNames.filter((name) => name.startsWith('granular-admin-relationship-')),
        SignatureTokenToMsSignatureHeader: true,
      });
      await register(other.partner, { WebhookUrl: otherReceiver.url, WebhookEvents: [...webhookEventNames] });

      // One relationship that auto-extends, is edited and terminated; one that warns and expires.
      const extending = await bed.client.activeRelationship(partner, customer, customerTenantId, {
        autoExtendDuration: 'P180D',
        duration: 'P30D',
        accessDetails: {
          unifiedRoles: [
            { roleDefinitionId: roles.exchangeAdministrator },
            { roleDefinitionId: roles.intuneAdministrator },
          ],
        },
      });
      const group = randomUUID();
      const assignmentsUrl = `${relationshipsUrl}/${extending.id}/accessAssignments`;
      const assignment = await bed.client.call('POST', assignmentsUrl, {
        token: partner,
        body: {
          accessContainer: { accessContainerId: group },
          accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
        },
      });
      expect(assignment.status).toBe(201);
      const assignmentUrl = `${assignmentsUrl}/${assignment.body.id}`;
      const etag = String((await bed.client.call('GET', assignmentUrl, { token: partner })).headers.get('etag'));
      const updated = await bed.client.call('PATCH', assignmentUrl, {
        token: partner,
        headers: { 'if-match': etag },
        body: {
          accessDetails: {
            unifiedRoles: [
              { roleDefinitionId: roles.exchangeAdministrator },
              { roleDefinitionId: roles.intuneAdministrator },
            ],
          },
        },
      });
      expect([200, 202]).toContain(updated.status);

      const expiring = await bed.client.activeRelationship(partner, customer, customerTenantId, { duration: 'P30D' });
      const deletedWithIt = await bed.client.call('POST', `${relationshipsUrl}/${expiring.id}/accessAssignments`, {
        token: partner,
        body: {
          accessContainer: { accessContainerId: randomUUID() },
          accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
        },
      });
      expect(deletedWithIt.status).toBe(201);

      // Timers: the warning a day before the end, then the end date (one extends, one expires).
      await setClock(DateTime.fromISO(String(expiring.endDateTime)).minus({ hours: 12 }));
      await runJob('sendExpiryWarnings');
      await setClock(DateTime.fromISO(String(expiring.endDateTime)).plus({ hours: 1 }));
      await runJob('processEndDates');
      const tokens = {
        partner: await bed.client.token({ tid: partnerTenantId, roles: ['AdminAgent'] }),
        customer: await bed.client.token({ tid: customerTenantId, wids: [roles.globalAdministrator] }),
      };
      expect((await bed.client.request(tokens.customer, String(extending.id), 'terminate')).status).toBe(201);
      // A legacy DAP removed by the partner.
      await bed.client.call('PUT', `/sandbox/dap/${partnerTenantId}/${customerTenantId}`);
      expect([200, 204]).toContain(
        (await bed.client.call('DELETE', `/v1/dapRelationships/${customerTenantId}`, { token: tokens.partner })).status,
      );

      const relationshipEvents = (id: unknown) => [
        'granular-admin-relationship-approved',
        'granular-admin-relationship-activated',
        ...(id === extending.id
          ? ['granular-admin-relationship-auto-extended', 'granular-admin-relationship-terminated']
          : // The clock jumped past both the 7-day and the 1-day warning: each is sent.
            [
              'granular-admin-relationship-expiring',
              'granular-admin-relationship-expiring',
              'granular-admin-relationship-expired',
            ]),
      ];
      const expectedForPartner = 9 + 5 + 1; // the relationships', the assignments' (created ×2, updated, deleted ×2), DAP
      await partnerReceiver.waitFor((r) => r.events().length >= expectedForPartner);
      await customerReceiver.waitFor((r) => r.events().length >= 9);
      // Anything late or duplicated would show within a short while.
      await new Promise((resolve) => setTimeout(resolve, 1000));

      const partnerEvents = partnerReceiver.events();
      expect(partnerReceiver.requests).toHaveLength(partnerEvents.length); // each id once
      expect(partnerEvents.every((event) => event.verified)).toBe(true);
      expect(partnerEvents.every((event) => event.headers.authorization?.startsWith('Signature '))).toBe(true);
      const about = (events: ReceivedEvent[], path: string) =>
        names(events.filter((event) => event.event.ResourceUri === `${bed.host.url}${path}`));
      for (const relationship of [extending, expiring]) {
        // In the order of the changes, per resource.
        expect(about(partnerEvents, `${relationshipsUrl}/${relationship.id}`)).toEqual(
          relationshipEvents(relationship.id),
        );
      }
      expect(about(partnerEvents, assignmentUrl)).toEqual([
        'granular-admin-access-assignment-created',
        'granular-admin-access-assignment-updated',
        'granular-admin-access-assignment-deleted',
      ]);
      expect(
        about(partnerEvents, `${relationshipsUrl}/${expiring.id}/accessAssignments/${deletedWithIt.body.id}`),
      ).toEqual(['granular-admin-access-assignment-created', 'granular-admin-access-assignment-deleted']);
      expect(about(partnerEvents, `/v1/dapRelationships/${customerTenantId}`)).toEqual([
        'dap-admin-relationship-terminated',
      ]);
      expect(names(partnerEvents)).not.toContain(left);
      expect(partnerEvents).toHaveLength(expectedForPartner);
      // The change's time on the service clock.
      const expired = partnerEvents.find((event) => event.event.EventName === 'granular-admin-relationship-expired');
      expect(expired?.event.ResourceChangeUtcDate).toBe(
        DateTime.fromISO(String(expiring.endDateTime))
          .plus({ hours: 1 })
          .toUTC()
          .toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'0000Z'"),
      );

      // The customer hears of its relationships, signed in x-ms-signature as it asked.
      const customerEvents = customerReceiver.events();
      expect(customerEvents.every((event) => event.verified && !event.headers.authorization)).toBe(true);
      expect(customerEvents.every((event) => event.headers['x-ms-signature'])).toBe(true);
      for (const relationship of [extending, expiring]) {
        expect(about(customerEvents, `${relationshipsUrl}/${relationship.id}`)).toEqual(
          relationshipEvents(relationship.id),
        );
      }
      expect(customerEvents).toHaveLength(9);
      // Another partner hears nothing of it.
      expect(otherReceiver.requests).toHaveLength(0);

      // AuditUri: the audit record, to the tenant it was sent to only.
      const approved = partnerEvents.find((event) => event.event.EventName === 'granular-admin-relationship-approved');
      const auditUri = String(approved?.event.AuditUri);
      expect(auditUri).toMatch(new RegExp(`^${bed.host.url}/auditactivity/v1/auditrecords/[0-9a-f-]{36}$`));
      const record = await bed.client.call('GET', auditUri, { token: tokens.partner });
      expect(record.status).toBe(200);
      expect(record.body).toMatchObject({
        partnerId: partnerTenantId,
        customerId: customerTenantId,
        resourceType: 'granular_admin_relationship',
        operationType: 'approve_granular_admin_relationship',
        operationStatus: 'succeeded',
      });
      expect(JSON.parse(String(record.body.resourceOldValue))).toMatchObject({
        id: extending.id,
        status: 'approvalPending',
      });
      // What CIPP's onboarding reads: the relationship's id and the customer's name.
      expect(JSON.parse(String(record.body.resourceNewValue))).toMatchObject({
        id: extending.id,
        status: 'active',
        customer: { tenantId: customerTenantId, organizationDisplayName: expect.any(String) },
      });
      expectGraphError(await bed.client.call('GET', auditUri, { token: other.partner }), 404, 'ResourceNotFound');
      const customerCopy = customerEvents.find(
        (event) => event.event.EventName === 'granular-admin-relationship-approved',
      );
      expect(
        (await bed.client.call('GET', String(customerCopy?.event.AuditUri), { token: tokens.customer })).status,
      ).toBe(200);
      const dap = partnerEvents.find((event) => event.event.EventName === 'dap-admin-relationship-terminated');
      expect(dap?.event.AuditUri).toBeNull();
    });
  });
});
