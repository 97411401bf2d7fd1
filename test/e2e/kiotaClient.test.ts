import { Duration } from '@microsoft/kiota-abstractions';
import { createGraphServiceClient, GraphRequestAdapter, GraphServiceClient } from '@microsoft/msgraph-sdk';
import { PageIterator } from '@microsoft/msgraph-sdk-core';
import {
  createDelegatedAdminRelationshipCollectionResponseFromDiscriminatorValue,
  DelegatedAdminRelationship,
} from '@microsoft/msgraph-sdk/models/index.js';
import { createODataErrorFromDiscriminatorValue, ODataError } from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import { randomUUID } from 'node:crypto';
import { HttpsTestHost, startHttpsTestHost } from './https';
import { kiotaRequestAdapter } from './sdkClients';
import { roles } from './support';

/**
 * The Kiota Graph SDK as an application sets it up (sdkClients.ts): an Azure Identity
 * authentication provider whose allowed hosts name the local host, and the adapter's base URL
 * pointed at it. Kiota's provider attaches tokens only to allowed hosts, over https.
 */
describe('Kiota Microsoft Graph SDK over HTTPS', () => {
  let host: HttpsTestHost;
  let partnerAdapter: GraphRequestAdapter;
  let partner: GraphServiceClient;
  let customer: GraphServiceClient;
  let customerTenantId: string;

  beforeAll(async () => {
    host = await startHttpsTestHost();
    const tenants = await host.client.tenants();
    customerTenantId = tenants.customerTenantId;
    partnerAdapter = kiotaRequestAdapter(host, tenants.partner);
    partner = createGraphServiceClient(partnerAdapter);
    customer = createGraphServiceClient(kiotaRequestAdapter(host, tenants.customer));
  });

  afterAll(() => host.close());

  it('creates, locks, approves, assigns a group, pages the list and patches with If-Match', async () => {
    const relationships = partner.tenantRelationships.delegatedAdminRelationships;
    const created = await relationships.post({
      displayName: 'Kiota relationship',
      duration: new Duration({ days: 730 }),
      customer: { tenantId: customerTenantId },
      accessDetails: {
        unifiedRoles: [
          { roleDefinitionId: roles.exchangeAdministrator },
          { roleDefinitionId: roles.intuneAdministrator },
        ],
      },
    });
    expect(created).toMatchObject({ displayName: 'Kiota relationship', status: 'created' });
    expect(created?.duration?.toString()).toBe('P730D');
    const id = String(created?.id);
    const relationship = relationships.byDelegatedAdminRelationshipId(id);

    const lock = await relationship.requests.post({ action: 'lockForApproval' });
    expect(lock).toMatchObject({ action: 'lockForApproval', status: 'succeeded' });
    const approve = await customer.tenantRelationships.delegatedAdminRelationships
      .byDelegatedAdminRelationshipId(id)
      .requests.post({ action: 'approve' });
    expect(approve).toMatchObject({ action: 'approve', status: 'succeeded' });

    const group = randomUUID();
    const assignment = await relationship.accessAssignments.post({
      accessContainer: { accessContainerId: group, accessContainerType: 'securityGroup' },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
    });
    expect(assignment).toMatchObject({ status: 'pending', accessContainer: { accessContainerId: group } });
    const assigned = await relationship.accessAssignments
      .byDelegatedAdminAccessAssignmentId(String(assignment?.id))
      .get();
    expect(assigned?.status).toBe('active');

    for (let i = 0; i < 4; i++) {
      await relationships.post({
        displayName: `Kiota paged ${i}`,
        duration: new Duration({ days: 30 }),
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalReader }] },
      });
    }
    // Two per page: the SDK's page iterator follows the absolute https nextLinks with the token.
    const firstPage = await relationships.get({ queryParameters: { top: 2 } });
    expect(firstPage?.odataNextLink).toMatch(new RegExp(`^${host.url}/v1\\.0/tenantRelationships/`));
    const seen: DelegatedAdminRelationship[] = [];
    const iterator = new PageIterator<DelegatedAdminRelationship>(
      partnerAdapter,
      { value: firstPage?.value ?? [], odataNextLink: firstPage?.odataNextLink ?? undefined },
      (item) => {
        seen.push(item);
        return true;
      },
      createDelegatedAdminRelationshipCollectionResponseFromDiscriminatorValue,
      { XXX: createODataErrorFromDiscriminatorValue },
    );
    await iterator.iterate();
    expect(seen.map((item) => item.displayName).sort()).toEqual([
      'Kiota paged 0',
      'Kiota paged 1',
      'Kiota paged 2',
      'Kiota paged 3',
      'Kiota relationship',
    ]);
    expect(iterator.getPagingState()).toBe('Complete');

    const read = await relationship.get();
    expect(read?.status).toBe('active');
    const etag = String(read?.additionalData?.['@odata.etag']);
    expect(etag).toMatch(/^W\/"/);
    const patched = await relationship.patch(
      { autoExtendDuration: new Duration({ days: 180 }) },
      { headers: { 'If-Match': etag } },
    );
    expect(patched).toMatchObject({ id, status: 'active' });
    expect(patched?.autoExtendDuration?.toString()).toBe('P180D');

    const stale = await relationship
      .patch({ autoExtendDuration: Duration.parse('PT0S') }, { headers: { 'If-Match': etag } })
      .catch((error: ODataError) => error);
    expect(stale).toMatchObject({ responseStatusCode: 412, errorEscaped: { code: 'preconditionFailed' } });
    expect((await relationship.get())?.autoExtendDuration?.toString()).toBe('P180D');
  });

  it('sends the token to no host outside its allowed hosts', async () => {
    const token = await host.client.token({ tid: randomUUID(), roles: ['AdminAgent'] });
    // Kiota's Graph provider defaults to Graph's own hosts: to the local host it sends no token.
    const graphHostsOnly = createGraphServiceClient(kiotaRequestAdapter(host, token, []));
    const refused = await graphHostsOnly.tenantRelationships.delegatedAdminRelationships
      .get()
      .catch((error: ODataError) => error);
    expect(refused).toMatchObject({ responseStatusCode: 401, errorEscaped: { code: 'InvalidAuthenticationToken' } });
    const allowed = createGraphServiceClient(kiotaRequestAdapter(host, token));
    expect((await allowed.tenantRelationships.delegatedAdminRelationships.get())?.value).toEqual([]);
  });
});
