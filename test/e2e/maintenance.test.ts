import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { toGraphDateTime } from '../../shared/domain/time';
import { relationshipsUrl, roles, useTestHost } from './support';

/**
 * The time rules of SPEC §4 driven through the sandbox: the clock is pinned and moved, jobs are
 * run on demand, and everything is observed over HTTP.
 */
describe('scheduled maintenance', () => {
  const { client } = useTestHost();

  const t0 = DateTime.fromISO('2026-01-01T00:00:00Z', { zone: 'utc' });

  /** Pins the clock and mints fresh tokens for the tenants (older ones may have expired). */
  async function at(instant: DateTime, tenants: { partnerTenantId: string; customerTenantId: string }) {
    const clock = await client.call('PUT', '/sandbox/clock', { body: { now: instant.toISO() } });
    expect(clock.status).toBe(200);
    return {
      partner: await client.token({ tid: tenants.partnerTenantId, roles: ['AdminAgent'] }),
      customer: await client.token({ tid: tenants.customerTenantId, wids: [roles.globalAdministrator] }),
    };
  }

  async function runJob(job: string): Promise<Record<string, unknown>> {
    const result = await client.call('POST', `/sandbox/jobs/${job}`);
    expect(result.status).toBe(200);
    return result.body;
  }

  const newTenants = () => ({ partnerTenantId: randomUUID(), customerTenantId: randomUUID() });
  const get = async (token: string, id: string) =>
    (await client.call('GET', `${relationshipsUrl}/${id}`, { token })).body;

  it('expires a pending request on day 90 after lockForApproval, not on day 89', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const created = await client.createRelationship(tokens.partner, {
      customer: { tenantId: tenants.customerTenantId },
    });
    const id = String(created.body.id);
    expect((await client.request(tokens.partner, id, 'lockForApproval')).status).toBe(201);

    tokens = await at(t0.plus({ days: 89, hours: 23 }), tenants);
    expect(await runJob('expirePendingRequests')).not.toHaveProperty('expired', expect.arrayContaining([id]));
    expect((await get(tokens.partner, id)).status).toBe('approvalPending');

    tokens = await at(t0.plus({ days: 90 }), tenants);
    expect((await runJob('expirePendingRequests')).expired).toContain(id);
    const expired = await get(tokens.partner, id);
    expect(expired).toMatchObject({ status: 'expired', endDateTime: '2026-04-01T00:00:00.0000000Z' });
    // Too late to approve now.
    expect((await client.request(tokens.customer, id, 'approve')).status).toBe(400);
  });

  it('expires a relationship at its end date exactly, without auto-extension', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const active = await client.activeRelationship(tokens.partner, tokens.customer, tenants.customerTenantId, {
      duration: 'P30D',
    });
    const end = DateTime.fromISO(String(active.endDateTime), { zone: 'utc' });
    expect(end.toISO()).toBe(t0.plus({ days: 30 }).toISO());

    tokens = await at(end.minus({ seconds: 1 }), tenants);
    expect(await runJob('processEndDates')).not.toHaveProperty('expired', expect.arrayContaining([active.id]));
    expect((await get(tokens.partner, String(active.id))).status).toBe('active');

    tokens = await at(end, tenants);
    expect((await runJob('processEndDates')).expired).toContain(active.id);
    expect(await get(tokens.partner, String(active.id))).toMatchObject({
      status: 'expired',
      endDateTime: active.endDateTime,
    });
  });

  it('auto-extends by exactly 180 days, again and again, while P180D and no Global Administrator', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const active = await client.activeRelationship(tokens.partner, tokens.customer, tenants.customerTenantId, {
      duration: 'P365D',
      autoExtendDuration: 'P180D',
    });
    const id = String(active.id);
    expect(active.endDateTime).toBe('2027-01-01T00:00:00.0000000Z');

    tokens = await at(DateTime.fromISO('2027-01-01T00:00:00Z', { zone: 'utc' }), tenants);
    expect((await runJob('processEndDates')).extended).toContain(id);
    // SPEC §4's example: the end moves from 2027-01-01 to 2027-06-30.
    expect(await get(tokens.partner, id)).toMatchObject({
      status: 'active',
      endDateTime: '2027-06-30T00:00:00.0000000Z',
    });

    tokens = await at(DateTime.fromISO('2027-06-30T00:00:00Z', { zone: 'utc' }), tenants);
    expect((await runJob('processEndDates')).extended).toContain(id);
    expect(await get(tokens.partner, id)).toMatchObject({
      status: 'active',
      endDateTime: '2027-12-27T00:00:00.0000000Z',
    });

    // Switching auto-extension off before the end makes it expire there; no notification is sent.
    const current = await client.call('GET', `${relationshipsUrl}/${id}`, { token: tokens.partner });
    const patched = await client.call('PATCH', `${relationshipsUrl}/${id}`, {
      token: tokens.partner,
      body: { autoExtendDuration: 'PT0S' },
      headers: { 'if-match': String(current.headers.get('etag')) },
    });
    expect(patched.status).toBe(200);
    tokens = await at(DateTime.fromISO('2027-12-27T00:00:00Z', { zone: 'utc' }), tenants);
    expect((await runJob('processEndDates')).expired).toContain(id);
    expect((await get(tokens.partner, id)).status).toBe('expired');
    const notifications = await client.call<{ value: { relationshipId: string; kind: string }[] }>(
      'GET',
      '/v1.0/notifications',
      {
        token: tokens.partner,
      },
    );
    expect(
      notifications.body.value.filter((n) => n.relationshipId === id && n.kind === 'relationshipTerminated'),
    ).toEqual([]);
  });

  it('never auto-extends a relationship holding Global Administrator', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const withGa = { unifiedRoles: [{ roleDefinitionId: roles.globalAdministrator }] };
    const refused = await client.createRelationship(tokens.partner, {
      accessDetails: withGa,
      autoExtendDuration: 'P180D',
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toMatch(/Global Administrator/);

    const active = await client.activeRelationship(tokens.partner, tokens.customer, tenants.customerTenantId, {
      duration: 'P10D',
      accessDetails: withGa,
    });
    const current = await client.call('GET', `${relationshipsUrl}/${active.id}`, { token: tokens.partner });
    const patched = await client.call('PATCH', `${relationshipsUrl}/${active.id}`, {
      token: tokens.partner,
      body: { autoExtendDuration: 'P180D' },
      headers: { 'if-match': String(current.headers.get('etag')) },
    });
    expect(patched.status).toBe(400);
    tokens = await at(t0.plus({ days: 10 }), tenants);
    expect((await runJob('processEndDates')).expired).toContain(active.id);
  });

  it('auto-extends once Global Administrator has been removed and P180D set', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const active = await client.activeRelationship(tokens.partner, tokens.customer, tenants.customerTenantId, {
      duration: 'P10D',
      accessDetails: {
        unifiedRoles: [
          { roleDefinitionId: roles.globalAdministrator },
          { roleDefinitionId: roles.exchangeAdministrator },
        ],
      },
    });
    const url = `${relationshipsUrl}/${active.id}`;
    let current = await client.call('GET', url, { token: tokens.partner });
    const removal = await client.call('PATCH', url, {
      token: tokens.partner,
      body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] } },
      headers: { 'if-match': String(current.headers.get('etag')) },
    });
    expect(removal.status).toBe(202);
    current = await client.call('GET', url, { token: tokens.partner });
    const extend = await client.call('PATCH', url, {
      token: tokens.partner,
      body: { autoExtendDuration: 'P180D' },
      headers: { 'if-match': String(current.headers.get('etag')) },
    });
    expect(extend.status).toBe(200);
    tokens = await at(t0.plus({ days: 10 }), tenants);
    expect((await runJob('processEndDates')).extended).toContain(active.id);
    expect(await get(tokens.partner, String(active.id))).toMatchObject({
      status: 'active',
      endDateTime: toGraphDateTime(t0.plus({ days: 190 })),
    });
  });

  it('warns both sides 30, 7 and 1 days before a non-extending end, once each, and tells both when it expired', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const active = await client.activeRelationship(tokens.partner, tokens.customer, tenants.customerTenantId, {
      duration: 'P100D',
    });
    const id = String(active.id);
    const end = t0.plus({ days: 100 });
    for (const days of [30, 7, 1]) {
      tokens = await at(end.minus({ days }), tenants);
      const [first, second] = await Promise.all([runJob('sendExpiryWarnings'), runJob('sendExpiryWarnings')]);
      const warned = [first, second].flatMap((report) => (report[`warned${days}Days`] as string[] | undefined) ?? []);
      expect(warned).toEqual([id]);
    }
    tokens = await at(end, tenants);
    expect((await runJob('processEndDates')).expired).toContain(id);
    const sides = [
      { token: tokens.partner, recipients: { tenantId: tenants.partnerTenantId, role: 'AdminAgent' } },
      { token: tokens.customer, recipients: { tenantId: tenants.customerTenantId, role: 'GlobalAdministrator' } },
    ];
    for (const side of sides) {
      const notifications = await client.call<{
        value: { relationshipId: string; kind: string; recipients: unknown; subject: string }[];
      }>('GET', '/v1.0/notifications', { token: side.token });
      const mine = notifications.body.value.filter((n) => n.relationshipId === id);
      expect(mine.map((n) => n.kind)).toEqual([
        'relationshipExpired',
        'relationshipExpiryWarning',
        'relationshipExpiryWarning',
        'relationshipExpiryWarning',
        'relationshipApproved',
      ]);
      expect(mine.slice(1, 4).map((n) => n.subject)).toEqual([
        expect.stringContaining('1 day'),
        expect.stringContaining('7 days'),
        expect.stringContaining('30 days'),
      ]);
      for (const notification of mine) expect(notification.recipients).toEqual(side.recipients);
    }
  });

  it('sends every warning already due when the clock jumps past several, once each', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const active = await client.activeRelationship(tokens.partner, tokens.customer, tenants.customerTenantId, {
      duration: 'P100D',
    });
    const id = String(active.id);
    // Nothing ran at 30 or 7 days before the end; the first run after them sends both.
    tokens = await at(t0.plus({ days: 95 }), tenants);
    const report = await runJob('sendExpiryWarnings');
    expect(report.warned30Days).toEqual([id]);
    expect(report.warned7Days).toEqual([id]);
    expect(report.warned1Days).toBeUndefined();
    tokens = await at(t0.plus({ days: 99 }), tenants);
    expect((await runJob('sendExpiryWarnings')).warned1Days).toEqual([id]);
    expect(await runJob('sendExpiryWarnings')).not.toHaveProperty('warned1Days');
  });

  it('warns after auto-extension is switched off, though it was on when the first warning fell due', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const active = await client.activeRelationship(tokens.partner, tokens.customer, tenants.customerTenantId, {
      duration: 'P100D',
      autoExtendDuration: 'P180D',
    });
    const id = String(active.id);
    tokens = await at(t0.plus({ days: 70 }), tenants);
    expect(JSON.stringify(await runJob('sendExpiryWarnings'))).not.toContain(id);
    const current = await client.call('GET', `${relationshipsUrl}/${id}`, { token: tokens.partner });
    const off = await client.call('PATCH', `${relationshipsUrl}/${id}`, {
      token: tokens.partner,
      body: { autoExtendDuration: 'PT0S' },
      headers: { 'if-match': String(current.headers.get('etag')) },
    });
    expect(off.status).toBe(200);
    tokens = await at(t0.plus({ days: 93 }), tenants);
    expect((await runJob('sendExpiryWarnings')).warned7Days).toEqual([id]);
  });

  it('sends no warning for a relationship that will auto-extend', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const active = await client.activeRelationship(tokens.partner, tokens.customer, tenants.customerTenantId, {
      duration: 'P100D',
      autoExtendDuration: 'P180D',
    });
    tokens = await at(t0.plus({ days: 70 }), tenants);
    const report = await runJob('sendExpiryWarnings');
    expect(JSON.stringify(report)).not.toContain(String(active.id));
  });

  it('purges ended relationships 365 days after they ended, freeing the name (day 364 refused, day 365 accepted)', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const name = `Purge ${randomUUID().slice(0, 8)}`;
    const active = await client.activeRelationship(tokens.partner, tokens.customer, tenants.customerTenantId, {
      displayName: name,
    });
    const id = String(active.id);
    expect((await client.request(tokens.partner, id, 'terminate')).status).toBe(201);

    tokens = await at(t0.plus({ days: 364 }), tenants);
    expect(await runJob('purgeEnded')).not.toHaveProperty('purged', expect.arrayContaining([id]));
    expect((await client.createRelationship(tokens.partner, { displayName: name })).status).toBe(409);

    tokens = await at(t0.plus({ days: 365 }), tenants);
    expect((await runJob('purgeEnded')).purged).toContain(id);
    expect((await client.call('GET', `${relationshipsUrl}/${id}`, { token: tokens.partner })).status).toBe(404);
    expect((await client.call('GET', `${relationshipsUrl}/${id}/requests`, { token: tokens.partner })).status).toBe(
      404,
    );
    expect((await client.call('GET', `${relationshipsUrl}/${id}`, { token: tokens.customer })).status).toBe(404);
    const list = await client.call<{ value: { id: string }[] }>('GET', relationshipsUrl, { token: tokens.customer });
    expect(list.body.value.map((r) => r.id)).not.toContain(id);
    expect((await client.createRelationship(tokens.partner, { displayName: name })).status).toBe(201);
  });

  it('extends each due relationship exactly once when the end-date job runs twice at the same time', async () => {
    const tenants = newTenants();
    let tokens = await at(t0, tenants);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const active = await client.activeRelationship(tokens.partner, tokens.customer, tenants.customerTenantId, {
        duration: 'P20D',
        autoExtendDuration: 'P180D',
      });
      ids.push(String(active.id));
    }
    tokens = await at(t0.plus({ days: 20 }), tenants);
    const reports = await Promise.all([runJob('processEndDates'), runJob('processEndDates')]);
    const extended = reports.flatMap((report) => (report.extended as string[] | undefined) ?? []);
    expect(extended.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect((await get(tokens.partner, id)).endDateTime).toBe('2026-07-20T00:00:00.0000000Z');
    }
    const audit = await client.call<{ value: { activityDisplayName: string; targetResources: { id: string }[] }[] }>(
      'GET',
      `/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Auto-extend delegated admin relationship'&$top=300`,
      { token: tokens.partner },
    );
    for (const id of ids) {
      expect(audit.body.value.filter((entry) => entry.targetResources[0].id === id)).toHaveLength(1);
    }
    // Running again finds nothing due.
    expect((await runJob('processEndDates')).extended ?? []).toEqual(expect.not.arrayContaining(ids));
  });
});

describe('notifications and audit log', () => {
  const { client, host } = useTestHost();

  beforeAll(async () => {
    await client.call('PUT', '/sandbox/clock', { body: { now: null } });
  });

  it('notifies both sides of a termination and shows the partner that the customer terminated', async () => {
    const { partner, customer, customerTenantId, partnerTenantId } = await client.tenants();
    const active = await client.activeRelationship(partner, customer, customerTenantId);
    expect((await client.request(customer, String(active.id), 'terminate')).status).toBe(201);

    const partnerNotes = await client.call<{ value: Record<string, unknown>[] }>('GET', '/v1.0/notifications', {
      token: partner,
    });
    // Newest first: the termination, then the approval confirmation (SPEC §9: both go to both sides).
    expect(partnerNotes.body.value).toEqual([
      expect.objectContaining({
        kind: 'relationshipTerminated',
        relationshipId: active.id,
        recipients: { tenantId: partnerTenantId, role: 'AdminAgent' },
        subject: expect.stringContaining('by the customer'),
      }),
      expect.objectContaining({
        kind: 'relationshipApproved',
        relationshipId: active.id,
        recipients: { tenantId: partnerTenantId, role: 'AdminAgent' },
      }),
    ]);
    const customerNotes = await client.call<{ value: Record<string, unknown>[] }>('GET', '/v1.0/notifications', {
      token: customer,
    });
    expect(customerNotes.body.value).toEqual([
      expect.objectContaining({
        kind: 'relationshipTerminated',
        recipients: { tenantId: customerTenantId, role: 'GlobalAdministrator' },
      }),
      expect.objectContaining({
        kind: 'relationshipApproved',
        recipients: { tenantId: customerTenantId, role: 'GlobalAdministrator' },
      }),
    ]);

    const audit = await client.call<{ value: Record<string, unknown>[] }>(
      'GET',
      `/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Terminate delegated admin relationship'`,
      { token: partner },
    );
    expect(audit.body.value).toEqual([
      expect.objectContaining({
        category: 'DelegatedAdminRelationshipManagement',
        result: 'success',
        additionalDetails: [{ key: 'initiatorTenantId', value: customerTenantId }],
        targetResources: [expect.objectContaining({ id: active.id, type: 'DelegatedAdminRelationship' })],
      }),
    ]);
  });

  it('keeps each tenant to its own audit entries, filters by date and category, and exports CSV', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const before = DateTime.utc().minus({ seconds: 1 }).toISO();
    const active = await client.activeRelationship(partner, customer, customerTenantId);
    const all = await client.call<{ value: { activityDisplayName: string; activityDateTime: string }[] }>(
      'GET',
      '/v1.0/auditLogs/directoryAudits',
      { token: partner },
    );
    expect(all.body.value.map((entry) => entry.activityDisplayName)).toEqual([
      'Approve delegated admin relationship',
      'Lock delegated admin relationship for approval',
      'Create delegated admin relationship',
    ]);
    // The customer sees the relationship's history from the invitation on, not the partner's draft.
    const customerAudit = await client.call<{ value: { activityDisplayName: string }[] }>(
      'GET',
      '/v1.0/auditLogs/directoryAudits',
      {
        token: customer,
      },
    );
    expect(customerAudit.body.value.map((entry) => entry.activityDisplayName)).toEqual([
      'Approve delegated admin relationship',
      'Lock delegated admin relationship for approval',
    ]);

    const filtered = await client.call<{ value: unknown[] }>(
      'GET',
      `/v1.0/auditLogs/directoryAudits?$filter=activityDateTime ge ${before} and category eq 'DelegatedAdminRelationshipManagement'&$count=true`,
      { token: partner },
    );
    expect(filtered.body).toMatchObject({ '@odata.count': 3 });
    const none = await client.call<{ value: unknown[] }>(
      'GET',
      `/v1.0/auditLogs/directoryAudits?$filter=category eq 'Other'`,
      {
        token: partner,
      },
    );
    expect(none.body.value).toEqual([]);

    const csv = await fetch(`${host.url}/v1.0/auditLogs/directoryAudits`, {
      headers: { authorization: `Bearer ${partner}`, accept: 'text/csv' },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'activityDateTime,category,activityDisplayName,result,initiatedByTenantId,initiatedByUserId,targetId,targetDisplayName,modifiedProperties,id',
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(`"${active.id}"`);
  });
});
