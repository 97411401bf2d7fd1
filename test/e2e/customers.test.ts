import { randomUUID } from 'node:crypto';
import { CallResult, expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

/**
 * Partner Center side (SPEC §5.1, §5.2): partner profiles, customer creation with its default GDAP
 * relationship, and the customer reads a partner without DAP or GDAP access is refused.
 */
const directoryReaders = '88d8e3e3-8f55-4a1e-953a-9b9898b8876b';
const applicationAdministrator = '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3';
const cloudApplicationAdministrator = '158c047a-c907-4556-b7ef-446551a6b5f7';
const domainNameAdministrator = '8329153b-31d0-4727-b945-745eb3bc5f31';
const externalIdpAdministrator = 'be2f45a1-457d-42af-a067-6ec1fa63bc45';
const nineCommon = [
  directoryReaders,
  '9360feb5-f418-4baa-8175-e2a00bac4301',
  '4d6ac14f-3453-41d0-bef9-a3e0c569773a',
  'f023fd81-a637-4b56-95fd-791ac0226033',
  'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'e8611ab8-c189-46e8-94e1-60213ab1f814',
  '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
  roles.globalReader,
];
const appAdmins = [cloudApplicationAdministrator, applicationAdministrator];
const domainRoles = [externalIdpAdministrator, domainNameAdministrator];

type Entity = Record<string, unknown>;

describe('Partner Center customers and partner profiles', () => {
  const { client, host } = useTestHost();

  async function seedPartner(tenantId: string, profile: Entity): Promise<Entity> {
    return expectOk(await client.call('PUT', `/sandbox/partners/${tenantId}`, { body: profile }), 200).body;
  }

  async function partner(profile?: Entity): Promise<{ tenantId: string; token: string }> {
    const tenantId = randomUUID();
    if (profile) await seedPartner(tenantId, profile);
    return { tenantId, token: await client.token({ tid: tenantId, roles: ['AdminAgent'] }) };
  }

  const createCustomer = (token: string, body: Entity = {}): Promise<CallResult> =>
    client.call('POST', '/v1/customers', {
      token,
      body: { companyProfile: { companyName: 'Contoso Ltd', domain: `c${randomUUID().slice(0, 8)}` }, ...body },
    });

  async function defaultRelationship(token: string, created: CallResult): Promise<Entity> {
    const id = String(created.body.defaultGdapRelationshipId);
    return expectOk(await client.call('GET', `${relationshipsUrl}/${id}`, { token }), 200).body;
  }

  const roleIdsOf = (relationship: Entity): string[] =>
    (relationship.accessDetails as { unifiedRoles: { roleDefinitionId: string }[] }).unifiedRoles
      .map((role) => role.roleDefinitionId)
      .sort();

  describe('POST /v1/customers with default GDAP', () => {
    it('creates the customer and an active 730-day default relationship without assignments', async () => {
      const { token } = await partner();
      const domain = `contoso${randomUUID().slice(0, 8)}`;
      const created = expectOk(
        await client.call('POST', '/v1/customers', {
          token,
          body: { companyProfile: { companyName: 'Contoso Ltd', domain } },
        }),
        201,
      );
      const id = String(created.body.id);
      expect(created.body).toEqual({
        id,
        companyProfile: { tenantId: id, companyName: 'Contoso Ltd', domain: `${domain}.onmicrosoft.com` },
        defaultGdapRelationshipId: expect.any(String),
      });
      expect(created.headers.get('location')).toBe(`${host.url}/v1/customers/${id}`);

      const relationship = await defaultRelationship(token, created);
      expect(relationship).toMatchObject({
        status: 'active',
        duration: 'P730D',
        autoExtendDuration: 'PT0S',
        customer: { tenantId: id, displayName: 'Contoso Ltd' },
        displayName: `Default_Contoso Ltd_${id.replace(/-/g, '').slice(0, 8)}`,
      });
      expect(roleIdsOf(relationship)).toEqual([...nineCommon, ...appAdmins].sort());
      const days =
        (Date.parse(String(relationship.endDateTime)) - Date.parse(String(relationship.activatedDateTime))) /
        86_400_000;
      expect(days).toBe(730);
      const assignments = await client.call<{ value: unknown[] }>(
        'GET',
        `${relationshipsUrl}/${String(relationship.id)}/accessAssignments`,
        { token },
      );
      expect(expectOk(assignments, 200).body.value).toEqual([]);
    });

    it.each<[string, string[], string[]]>([
      ['directBill', ['directBill'], [...nineCommon, ...appAdmins]],
      ['indirectProvider', ['indirectProvider'], [...nineCommon, ...appAdmins]],
      ['indirectReseller', ['indirectReseller'], nineCommon],
      ['domain', ['domain'], [...nineCommon, ...appAdmins, ...domainRoles]],
      ['cpv', ['cpv'], [...nineCommon, ...appAdmins]],
      ['indirectReseller + domain', ['indirectReseller', 'domain'], [...nineCommon, ...appAdmins, ...domainRoles]],
    ])('gives a %s partner the roles of the table', async (_label, partnerTypes, expected) => {
      const { token } = await partner({ partnerTypes });
      const created = expectOk(await createCustomer(token), 201);
      expect(roleIdsOf(await defaultRelationship(token, created))).toEqual([...expected].sort());
    });

    it.each<[string, Entity | undefined, Entity]>([
      ['enableGDAPByDefault false', undefined, { enableGDAPByDefault: false }],
      ['an advisor', { partnerTypes: ['advisor'] }, {}],
      [
        'a partner who opted out',
        { partnerTypes: ['directBill'], defaultGdapOptOut: true },
        { enableGDAPByDefault: true },
      ],
    ])('creates no relationship for %s', async (_label, profile, body) => {
      const { token } = await partner(profile);
      const created = expectOk(await createCustomer(token, body), 201);
      expect(created.body).not.toHaveProperty('defaultGdapRelationshipId');
      const list = await client.call<{ value: unknown[] }>('GET', relationshipsUrl, { token });
      expect(list.body.value).toEqual([]);
    });

    it('refuses a taken domain, bad input and callers without AdminAgent', async () => {
      const { tenantId, token } = await partner();
      const domain = `taken${randomUUID().slice(0, 8)}`;
      expectOk(await createCustomer(token, { companyProfile: { companyName: 'A', domain } }), 201);
      expectGraphError(await createCustomer(token, { companyProfile: { companyName: 'B', domain } }), 409, 'conflict');
      expectGraphError(
        await createCustomer(token, { companyProfile: { companyName: 'B', domain: 'a.b.c' } }),
        400,
        'badRequest',
      );
      expectGraphError(await createCustomer(token, { dap: true }), 400, 'badRequest');
      const helpdesk = await client.token({ tid: tenantId, roles: ['HelpdeskAgent'] });
      expectGraphError(await createCustomer(helpdesk), 403, 'Authorization_RequestDenied');
    });
  });

  describe('customer reads need DAP or GDAP access', () => {
    const reads = ['', '/users', '/subscribedskus'];

    it('refuses a reseller-only partner, naming the missing DAP and GDAP', async () => {
      const { token } = await partner();
      const created = expectOk(await createCustomer(token, { enableGDAPByDefault: false }), 201);
      for (const path of reads) {
        const result = await client.call('GET', `/v1/customers/${String(created.body.id)}${path}`, { token });
        expectGraphError(result, 403, 'Authorization_RequestDenied');
        expect(JSON.stringify(result.body)).toMatch(/neither DAP nor an active GDAP relationship/);
      }
    });

    it('refuses a partner whose default GDAP is not assigned, then allows a user of an assigned group', async () => {
      const { tenantId, token } = await partner();
      const created = expectOk(await createCustomer(token), 201);
      const customerId = String(created.body.id);
      const refused = await client.call('GET', `/v1/customers/${customerId}/users`, { token });
      expectGraphError(refused, 403, 'Authorization_RequestDenied');
      expect(JSON.stringify(refused.body)).toMatch(/none of your security groups holds an active access assignment/);

      const group = randomUUID();
      const assigned = await client.call(
        'POST',
        `${relationshipsUrl}/${String(created.body.defaultGdapRelationshipId)}/accessAssignments`,
        {
          token,
          body: {
            accessContainer: { accessContainerId: group, accessContainerType: 'securityGroup' },
            accessDetails: { unifiedRoles: [{ roleDefinitionId: directoryReaders }] },
          },
        },
      );
      expectOk(assigned, 201);
      const member = await client.token({ tid: tenantId, roles: ['HelpdeskAgent'], groups: [group] });
      const company = expectOk(await client.call('GET', `/v1/customers/${customerId}`, { token: member }), 200);
      expect(company.body).toMatchObject({ id: customerId, companyProfile: { companyName: 'Contoso Ltd' } });
      const users = expectOk(await client.call('GET', `/v1/customers/${customerId}/users`, { token: member }), 200);
      expect(users.body).toMatchObject({ totalCount: 1, attributes: { objectType: 'Collection' } });
      const skus = expectOk(
        await client.call('GET', `/v1/customers/${customerId}/subscribedskus`, { token: member }),
        200,
      );
      expect(skus.body).toMatchObject({ totalCount: 0, items: [] });
    });

    it('allows an AdminAgent through DAP, not a HelpdeskAgent', async () => {
      const { tenantId, token } = await partner();
      const customerId = randomUUID();
      expectOk(await client.call('PUT', `/sandbox/dap/${tenantId}/${customerId}`), 200);
      expectOk(await client.call('PUT', `/sandbox/tenants/${customerId}`, { body: { displayName: 'Fabrikam' } }), 200);
      const company = expectOk(await client.call('GET', `/v1/customers/${customerId}`, { token }), 200);
      expect(company.body).toEqual({
        id: customerId,
        companyProfile: { tenantId: customerId, companyName: 'Fabrikam', domain: null },
        relationshipToPartner: 'none',
        allowDelegatedAccess: true,
        attributes: { objectType: 'Customer' },
      });
      const helpdesk = await client.token({ tid: tenantId, roles: ['HelpdeskAgent'] });
      const refused = await client.call('GET', `/v1/customers/${customerId}`, { token: helpdesk });
      expectGraphError(refused, 403, 'Authorization_RequestDenied');
      expect(JSON.stringify(refused.body)).toMatch(/applies only to AdminAgent users/);
    });

    it('answers 404 for a customer the partner has nothing to do with', async () => {
      const owner = await partner();
      const created = expectOk(await createCustomer(owner.token, { enableGDAPByDefault: false }), 201);
      const stranger = await partner();
      expectGraphError(
        await client.call('GET', `/v1/customers/${String(created.body.id)}`, { token: stranger.token }),
        404,
        'ResourceNotFound',
      );
    });
  });

  describe('PATCH /v1/customers/{id}: removing the reseller relationship', () => {
    const dapsOf = async (token: string): Promise<string[]> =>
      (
        expectOk(await client.call('GET', '/v1/dapRelationships', { token }), 200).body.value as {
          customerTenantId: string;
        }[]
      ).map((dap) => dap.customerTenantId);

    it("ends the reseller relationship and the DAP, named by the customer's domain as CIPP sends it, and leaves GDAP", async () => {
      const { tenantId, token } = await partner();
      const created = expectOk(await createCustomer(token), 201);
      const customerId = String(created.body.id);
      const domain = (created.body.companyProfile as { domain: string }).domain;
      expectOk(await client.call('PUT', `/sandbox/dap/${tenantId}/${customerId}`), 200);
      const before = expectOk(await client.call('GET', `/v1/customers/${customerId}`, { token }), 200);
      expect(before.body).toMatchObject({ relationshipToPartner: 'reseller', allowDelegatedAccess: true });

      // CIPP's Invoke-ExecOffboardTenant (TerminateContract), body and path as it sends them.
      const removed = expectOk(
        await client.call('PATCH', `/v1/customers/${domain}`, { token, body: { relationshipToPartner: 'none' } }),
        200,
      );
      expect(removed.body).toEqual({
        id: customerId,
        companyProfile: { tenantId: customerId, companyName: 'Contoso Ltd', domain },
        relationshipToPartner: 'none',
        allowDelegatedAccess: false,
        attributes: { objectType: 'Customer' },
      });
      expect(await dapsOf(token)).not.toContain(customerId);
      expect((await defaultRelationship(token, created)).status).toBe('active');
      // The partner still has its GDAP relationship, but without DAP no access to the customer's details.
      const after = await client.call('GET', `/v1/customers/${customerId}`, { token });
      expectGraphError(after, 403, 'Authorization_RequestDenied');
      expect(JSON.stringify(after.body)).toMatch(/none of your security groups holds an active access assignment/);

      // Nothing left to remove: 404, as for a customer the partner never resold to.
      expectGraphError(
        await client.call('PATCH', `/v1/customers/${customerId}`, { token, body: { relationshipToPartner: 'none' } }),
        404,
        'ResourceNotFound',
      );
    });

    it("takes the Partner Center SDK's whole Customer object, by id, without DAP", async () => {
      const { token } = await partner();
      const customerId = String(expectOk(await createCustomer(token, { enableGDAPByDefault: false }), 201).body.id);
      const body = {
        Id: customerId,
        CompanyProfile: null,
        RelationshipToPartner: 'None',
        AllowDelegatedAccess: null,
        Attributes: { ObjectType: 'Customer' },
      };
      const removed = expectOk(await client.call('PATCH', `/v1/customers/${customerId}`, { token, body }), 200);
      expect(removed.body).toMatchObject({ id: customerId, relationshipToPartner: 'none' });
      // No DAP, no GDAP, no reseller relationship: the partner has nothing to do with it any more.
      expectGraphError(await client.call('GET', `/v1/customers/${customerId}`, { token }), 404, 'ResourceNotFound');
    });

    it('refuses another value, allowDelegatedAccess true, non-AdminAgents and other partners, changing nothing', async () => {
      const owner = await partner();
      const customerId = String(expectOk(await createCustomer(owner.token), 201).body.id);
      const patch = (token: string, body: Entity) =>
        client.call('PATCH', `/v1/customers/${customerId}`, { token, body });
      expectGraphError(await patch(owner.token, { relationshipToPartner: 'reseller' }), 400, 'badRequest');
      expectGraphError(
        await patch(owner.token, { relationshipToPartner: 'none', allowDelegatedAccess: true }),
        400,
        'badRequest',
      );
      expectGraphError(await patch(owner.token, {}), 400, 'badRequest');
      const helpdesk = await client.token({ tid: owner.tenantId, roles: ['HelpdeskAgent'] });
      expectGraphError(await patch(helpdesk, { relationshipToPartner: 'none' }), 403, 'Authorization_RequestDenied');
      const stranger = await partner();
      expectGraphError(await patch(stranger.token, { relationshipToPartner: 'none' }), 404, 'ResourceNotFound');
      expectGraphError(
        await client.call('PATCH', '/v1/customers/nobody.onmicrosoft.com', {
          token: owner.token,
          body: { relationshipToPartner: 'none' },
        }),
        404,
        'ResourceNotFound',
      );
      // Still its reseller: the PATCH that was refused did nothing.
      expectOk(
        await client.call('PATCH', `/v1/customers/${customerId}`, {
          token: owner.token,
          body: { relationshipToPartner: 'none' },
        }),
        200,
      );
    });
  });

  describe('partner profiles', () => {
    it('are managed by ServiceOperator and readable by the partner itself', async () => {
      const tenantId = randomUUID();
      const operator = await client.token({ tid: randomUUID(), roles: ['ServiceOperator'] });
      const own = await client.token({ tid: tenantId, roles: ['AdminAgent'] });
      const url = `/v1/partners/${tenantId}/profile`;

      expect(expectOk(await client.call('GET', url, { token: own }), 200).body).toMatchObject({
        tenantId,
        partnerTypes: ['directBill'],
        programStates: { directBill: 'active' },
        defaultGdapOptOut: false,
        gdapPermissions: { createRelationships: true, updateRelationships: true },
      });
      const put = await client.call('PUT', url, {
        token: operator,
        body: { partnerTypes: ['directBill', 'indirectReseller'], programStates: { directBill: 'restricted' } },
      });
      expect(expectOk(put, 200).body).toMatchObject({
        programStates: { directBill: 'restricted', indirectReseller: 'active' },
        gdapPermissions: { createRelationships: true, updateRelationships: true },
      });
      expect(expectOk(await client.call('GET', url, { token: operator }), 200).body).toEqual(put.body);

      expectGraphError(
        await client.call('PUT', url, { token: own, body: { partnerTypes: ['cpv'] } }),
        403,
        'Authorization_RequestDenied',
      );
      const stranger = await client.token({ tid: randomUUID(), roles: ['AdminAgent'] });
      expectGraphError(await client.call('GET', url, { token: stranger }), 404, 'ResourceNotFound');
      expectGraphError(
        await client.call('PUT', url, {
          token: operator,
          body: { partnerTypes: ['directBill'], programStates: { cpv: 'active' } },
        }),
        400,
        'badRequest',
      );
    });
  });
});
