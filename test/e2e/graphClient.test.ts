import { Client as GraphClient, PageIterator } from '@microsoft/microsoft-graph-client';
import type {
  DelegatedAdminAccessAssignment,
  DelegatedAdminRelationship,
  DelegatedAdminRelationshipRequest,
} from '@microsoft/microsoft-graph-types';
import { randomUUID } from 'node:crypto';
import { HttpsTestHost, startHttpsTestHost } from './https';
import { classicGraphClient } from './sdkClients';
import { roles } from './support';

/**
 * The classic Graph JS client exactly as an application sets it up (sdkClients.ts): its own
 * authentication provider and middleware chain, the local host as its base URL and in
 * `customHosts`. It attaches the token only to https hosts, so this works over HTTPS alone.
 */
describe('classic Microsoft Graph JS client over HTTPS', () => {
  let host: HttpsTestHost;
  let partner: GraphClient;
  let customer: GraphClient;
  let customerTenantId: string;

  beforeAll(async () => {
    host = await startHttpsTestHost();
    const tenants = await host.client.tenants();
    customerTenantId = tenants.customerTenantId;
    partner = classicGraphClient(host, tenants.partner);
    customer = classicGraphClient(host, tenants.customer);
  });

  afterAll(() => host.close());

  const collection = '/tenantRelationships/delegatedAdminRelationships';

  it('creates, locks, approves, assigns a group, pages the list and patches with If-Match', async () => {
    const created: DelegatedAdminRelationship = await partner.api(collection).post({
      displayName: 'Classic client relationship',
      duration: 'P2Y',
      customer: { tenantId: customerTenantId },
      accessDetails: {
        unifiedRoles: [
          { roleDefinitionId: roles.exchangeAdministrator },
          { roleDefinitionId: roles.intuneAdministrator },
        ],
      },
    });
    expect(created).toMatchObject({ status: 'created', duration: 'P730D', autoExtendDuration: 'PT0S' });
    const relationship = `${collection}/${created.id}`;

    const lock: DelegatedAdminRelationshipRequest & { invitationUrl?: string } = await partner
      .api(`${relationship}/requests`)
      .post({ action: 'lockForApproval' });
    expect(lock).toMatchObject({ action: 'lockForApproval', status: 'succeeded' });
    expect(lock.invitationUrl).toContain(String(created.id));

    const approve: DelegatedAdminRelationshipRequest = await customer
      .api(`${relationship}/requests`)
      .post({ action: 'approve' });
    expect(approve).toMatchObject({ action: 'approve', status: 'succeeded' });

    const group = randomUUID();
    const assignment: DelegatedAdminAccessAssignment = await partner.api(`${relationship}/accessAssignments`).post({
      accessContainer: { accessContainerId: group, accessContainerType: 'securityGroup' },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
    });
    expect(assignment).toMatchObject({ status: 'pending', accessContainer: { accessContainerId: group } });
    const assignments = await partner.api(`${relationship}/accessAssignments`).get();
    expect(assignments.value).toEqual([expect.objectContaining({ id: assignment.id, status: 'active' })]);

    for (let i = 0; i < 4; i++) {
      await partner.api(collection).post({
        displayName: `Classic paged ${i}`,
        duration: 'P30D',
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalReader }] },
      });
    }
    // Two per page: the SDK's own iterator follows the absolute https nextLinks, token included.
    const firstPage = await partner.api(collection).top(2).get();
    expect(String(firstPage['@odata.nextLink'])).toMatch(new RegExp(`^${host.url}/v1\\.0/tenantRelationships/`));
    const seen: DelegatedAdminRelationship[] = [];
    await new PageIterator(partner, firstPage, (item: DelegatedAdminRelationship) => {
      seen.push(item);
      return true;
    }).iterate();
    expect(seen.map((item) => item.displayName).sort()).toEqual([
      'Classic client relationship',
      'Classic paged 0',
      'Classic paged 1',
      'Classic paged 2',
      'Classic paged 3',
    ]);
    expect(seen.find((item) => item.id === created.id)?.status).toBe('active');

    const read: DelegatedAdminRelationship & { '@odata.etag': string } = await partner.api(relationship).get();
    const patched: DelegatedAdminRelationship = await partner
      .api(relationship)
      .header('If-Match', read['@odata.etag'])
      .patch({ autoExtendDuration: 'P180D' });
    expect(patched).toMatchObject({ id: created.id, status: 'active', autoExtendDuration: 'P180D' });

    const stale = await partner
      .api(relationship)
      .header('If-Match', read['@odata.etag'])
      .patch({ autoExtendDuration: 'PT0S' })
      .catch((error: { statusCode: number; code: string }) => error);
    expect(stale).toMatchObject({ statusCode: 412, code: 'preconditionFailed' });
    expect((await partner.api(relationship).get()).autoExtendDuration).toBe('P180D');
  });

  it('sends the token to no host but the custom ones', async () => {
    // Without customHosts the client withholds the token from a non-Graph host: the service says 401.
    const token = await host.client.token({ tid: randomUUID(), roles: ['AdminAgent'] });
    const refused = await classicGraphClient(host, token, [])
      .api(collection)
      .get()
      .catch((error: { statusCode: number }) => error);
    expect(refused).toMatchObject({ statusCode: 401, code: 'InvalidAuthenticationToken' });
    expect((await classicGraphClient(host, token).api(collection).get()).value).toEqual([]);
  });
});
