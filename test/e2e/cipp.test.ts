import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { CallResult, Client, expectOk, startTestHost, TestHost } from './support';

/**
 * CIPP's GDAP calls, replayed in the order CIPP makes them (SPEC §14). Read from
 * KelvinTegelaar/CIPP-API at commit adf32422a21683430b195ec295e23b9fdb7cc715; each step names the
 * CIPP function and file its calls come from (`Tenant/…` and `Tenant/GDAP/…` are under
 * Modules/CIPPHTTP/Public/Entrypoints/HTTP Functions/). Paths, query strings, headers and bodies are CIPP's,
 * written out as data; only `https://graph.microsoft.com` and `https://api.partnercenter.microsoft.com`
 * become the local host. How CIPP sends them (Modules/CIPPCore/Public/Invoke-CIPPRestMethod.ps1,
 * Shared/CIPPSharp/CIPPRestClient.cs, a .NET HttpClient): the request target as .NET's Uri escapes
 * it (spaces become %20; quotes, parentheses and `$` stay as they are), a `CIPP/<version>`
 * User-Agent, `Content-Type: application/json; charset=utf-8` on every request with a body and
 * none on GETs, bodies as PowerShell's ConvertTo-Json writes them (indented with two spaces, or
 * `-Compress`ed).
 *
 * The sandbox's tokens stand in for CIPP's: its SAM user is the partner's AdminAgent and a member
 * of every "M365 GDAP …" group (CIPP adds it to them while onboarding); the approval, which CIPP
 * leaves to the customer's Global Administrator in the admin center, is made with the customer's
 * Global Administrator token. CIPP's calls to the partner's own directory (`/groups`, `/me`) and
 * its own tables have no counterpart here and are left out.
 */

const userAgent = 'CIPP/10.8.2';
const globalAdministrator = '62e90394-69f5-4237-9190-012177145e10';
const billingAdministrator = 'b0f54661-2d74-4c50-afa3-1ec803f12efe';
const globalReader = 'f2ef992c-3afb-46b9-b7cf-a126ee74c451';
const domainNameAdministrator = '8329153b-31d0-4727-b945-745eb3bc5f31';
const applicationAdministrator = '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3';

/**
 * The roles CIPP's onboarding expects ($ExpectedRoles in Push-ExecOnboardTenantQueue.ps1), with
 * Global Administrator added, as a CIPP role template maps them to its "M365 GDAP <role>" groups
 * (Tenant/GDAP/Invoke-ExecAddGDAPRole.ps1; the invite wizard sends them as `roleMappings`).
 */
const cippRoles: { RoleName: string; roleDefinitionId: string }[] = [
  { RoleName: 'Application Administrator', roleDefinitionId: applicationAdministrator },
  { RoleName: 'User Administrator', roleDefinitionId: 'fe930be7-5e62-47db-91af-98c3a49a38b1' },
  { RoleName: 'Intune Administrator', roleDefinitionId: '3a2c62db-5318-420d-8d74-23affee5d9d5' },
  { RoleName: 'Exchange Administrator', roleDefinitionId: '29232cdf-9323-42fd-ade2-1d097af3e4de' },
  { RoleName: 'Security Administrator', roleDefinitionId: '194ae4cb-b126-40b2-bd5b-6091b380977d' },
  { RoleName: 'Cloud App Security Administrator', roleDefinitionId: '892c5842-a9a6-463a-8041-72aa08ca3cf6' },
  { RoleName: 'Cloud Device Administrator', roleDefinitionId: '7698a772-787b-4ac8-901f-60d6b08affd2' },
  { RoleName: 'Teams Administrator', roleDefinitionId: '69091246-20e8-4a56-aa4d-066075b2a7a8' },
  { RoleName: 'SharePoint Administrator', roleDefinitionId: 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c' },
  { RoleName: 'Authentication Policy Administrator', roleDefinitionId: '0526716b-113d-4c15-b2c8-68e3c22b9f80' },
  { RoleName: 'Privileged Role Administrator', roleDefinitionId: 'e8611ab8-c189-46e8-94e1-60213ab1f814' },
  { RoleName: 'Privileged Authentication Administrator', roleDefinitionId: '7be44c8a-adaf-4e2a-84d6-ab2649e08a13' },
  { RoleName: 'Billing Administrator', roleDefinitionId: billingAdministrator },
  { RoleName: 'Global Reader', roleDefinitionId: globalReader },
  { RoleName: 'Domain Name Administrator', roleDefinitionId: domainNameAdministrator },
  { RoleName: 'Global Administrator', roleDefinitionId: globalAdministrator },
];

interface RoleMapping {
  RoleName: string;
  GroupName: string;
  GroupId: string;
  roleDefinitionId: string;
}

interface UnifiedRoles {
  unifiedRoles: { roleDefinitionId: string }[];
}

interface Relationship {
  id: string;
  '@odata.etag': string;
  displayName: string;
  status: string;
  autoExtendDuration: string;
  endDateTime: string | null;
  activatedDateTime: string | null;
  customer: { tenantId: string; displayName: string } | null;
  accessDetails: UnifiedRoles;
}

interface AccessAssignment {
  id: string;
  '@odata.etag': string;
  status: string;
  accessContainer: { accessContainerId: string; accessContainerType: string };
  accessDetails: UnifiedRoles;
}

interface BatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: Record<string, unknown> & { value?: unknown[]; error?: { message: string } };
}

describe("CIPP's GDAP calls, replayed", () => {
  let host: TestHost;
  let client: Client;
  /** CIPP's SAM user in the partner tenant. */
  let sam: string;
  /** The customer's Global Administrator, who approves the invitation. */
  let customerAdmin: string;
  let customerTenantId: string;
  let partnerTenantId: string;
  const cippApplicationId = randomUUID();
  let mappings: RoleMapping[];

  /**
   * A request as CIPP's Invoke-CIPPRestMethod sends it, byte for byte in its request line (fetch
   * would escape the quotes of a query string; .NET does not).
   */
  function cipp<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<CallResult<T>> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${sam}`,
      'user-agent': userAgent,
      ...(options.body === undefined
        ? {}
        : {
            'content-type': 'application/json; charset=utf-8',
            'content-length': String(Buffer.byteLength(options.body)),
          }),
      ...options.headers,
    };
    // A nextLink is absolute: CIPP sends it to the host it names, as it is.
    const target = path.replace(/^https?:\/\/[^/]+/, '').replace(/ /g, '%20');
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(host.url, { method, path: target, headers }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: new Headers(response.headers as Record<string, string>),
            body: (text ? JSON.parse(text) : undefined) as T,
          }),
        );
      });
      outgoing.on('error', reject);
      outgoing.end(options.body);
    });
  }

  /** New-GraphGetRequest on a collection: follows @odata.nextLink and hands back every `value`. */
  async function graphGet<T>(path: string, headers?: Record<string, string>): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: CallResult<{ value: T[]; '@odata.nextLink'?: string }> = expectOk(
        await cipp('GET', next, { headers }),
        200,
      );
      items.push(...page.body.value);
      next = page.body['@odata.nextLink'];
    }
    return items;
  }

  /** New-GraphBulkRequest: `POST /beta/$batch` with the requests, ConvertTo-Json -Compress. */
  async function bulk(requests: unknown[]): Promise<Map<string, BatchResponse>> {
    const result = expectOk(
      await cipp<{ responses: BatchResponse[] }>('POST', '/beta/$batch', { body: JSON.stringify({ requests }) }),
      200,
    );
    return new Map(result.body.responses.map((response) => [response.id, response]));
  }

  beforeAll(async () => {
    host = await startTestHost();
    client = new Client(host.url);
    partnerTenantId = randomUUID();
    customerTenantId = randomUUID();
    mappings = cippRoles.map((role) => ({ ...role, GroupName: `M365 GDAP ${role.RoleName}`, GroupId: randomUUID() }));
    sam = await client.token({
      tid: partnerTenantId,
      roles: ['AdminAgent'],
      groups: mappings.map((mapping) => mapping.GroupId),
      appid: cippApplicationId,
    });
    customerAdmin = await client.token({ tid: customerTenantId, wids: [globalAdministrator] });
    expectOk(
      await client.call('PUT', `/sandbox/tenants/${customerTenantId}`, { body: { displayName: 'Contoso Dental' } }),
      200,
    );
  });
  afterAll(() => host.close());

  const relationshipPath = (id: string): string => `/beta/tenantRelationships/delegatedAdminRelationships/${id}`;
  const mappingFor = (roleDefinitionId: string): RoleMapping =>
    mappings.find((mapping) => mapping.roleDefinitionId === roleDefinitionId) as RoleMapping;
  let relationshipId: string;
  /** The group the role template moves Billing Administrator to. */
  let newBillingGroup: string;

  it('Invoke-ExecGDAPInvite (Create): creates the relationship, polls it, and locks it with If-Match', async () => {
    // Tenant/GDAP/Invoke-ExecGDAPInvite.ps1: PT0S because the roles include Global Administrator.
    const invite = JSON.stringify({
      displayName: `CIPP_${randomUUID()}`,
      accessDetails: { unifiedRoles: mappings.map((mapping) => ({ roleDefinitionId: mapping.roleDefinitionId })) },
      autoExtendDuration: 'PT0S',
      duration: 'P730D',
    });
    const created = expectOk(
      await cipp<Relationship>('POST', '/beta/tenantRelationships/delegatedAdminRelationships', { body: invite }),
      201,
    );
    relationshipId = created.body.id;
    expect(created.body['@odata.etag']).toMatch(/^W\/".+"$/);

    // CIPP polls until the relationship reads `created`.
    const polled = expectOk(await cipp<Relationship>('GET', relationshipPath(relationshipId)), 200);
    expect(polled.body.status).toBe('created');

    const locked = expectOk(
      await cipp<{ action: string; invitationUrl: string }>('POST', `${relationshipPath(relationshipId)}/requests`, {
        body: '{\n  "action": "lockForApproval"\n}',
        headers: { 'If-Match': created.body['@odata.etag'] },
      }),
      201,
    );
    // CIPP checks the action, then builds the invitation link itself; the service's own link (in
    // sandbox mode its portal's invitation page, SPEC §17) names the same relationship.
    expect(locked.body.action).toBe('lockForApproval');
    expect(locked.body.invitationUrl).toBe(`${host.url}/portal/invitations/${relationshipId}`);
  });

  it("the customer's Global Administrator approves the invitation", async () => {
    const approved = expectOk(
      await client.call<{ action: string }>(
        'POST',
        `/v1.0/tenantRelationships/delegatedAdminRelationships/${relationshipId}/requests`,
        { token: customerAdmin, body: { action: 'approve' } },
      ),
      201,
    );
    expect(approved.body.action).toBe('approve');
  });

  it('Set-CIPPGDAPInviteGroups: finds the activated invite and maps one group per role', async () => {
    // Modules/CIPPCore/Public/Set-CIPPGDAPInviteGroups.ps1, run by Invoke-ExecGDAPInviteApproved.
    const active = await graphGet<Relationship>(
      "/beta/tenantRelationships/delegatedAdminRelationships?$filter=status eq 'active'",
    );
    const activation = active.find((relationship) => relationship.id === relationshipId) as Relationship;
    expect(activation.customer).toEqual({ tenantId: customerTenantId, displayName: 'Contoso Dental' });

    // Push-ExecGDAPInviteQueue → Set-CIPPGDAPInviteGroups -Relationship: skips groups already mapped.
    const existing = await graphGet<AccessAssignment>(`${relationshipPath(activation.id)}/accessAssignments`);
    expect(existing).toEqual([]);
    for (const role of mappings) {
      const mappingBody = `{
  "accessContainer": {
    "accessContainerId": "${role.GroupId}",
    "accessContainerType": "securityGroup"
  },
  "accessDetails": {
    "unifiedRoles": [
      {
        "roleDefinitionId": "${role.roleDefinitionId}"
      }
    ]
  }
}`;
      expectOk(await cipp('POST', `${relationshipPath(activation.id)}/accessAssignments`, { body: mappingBody }), 201);
    }
  });

  it('Push-ExecOnboardTenantQueue: the relationship is active with the expected roles, and no mapping is pending', async () => {
    // Modules/CIPPActivityTriggers/.../Push-ExecOnboardTenantQueue.ps1, steps 1 to 3.
    const relationship = expectOk(await cipp<Relationship>('GET', relationshipPath(relationshipId)), 200).body;
    expect(relationship.status).toBe('active');
    expect(relationship.customer?.tenantId).toBe(customerTenantId);
    expect(relationship.activatedDateTime).not.toBeNull();
    expect(relationship.accessDetails.unifiedRoles.map((role) => role.roleDefinitionId).sort()).toEqual(
      cippRoles.map((role) => role.roleDefinitionId).sort(),
    );

    const assignments = (
      await graphGet<AccessAssignment>(`${relationshipPath(relationshipId)}/accessAssignments`)
    ).filter((assignment) => !['deleted', 'deleting'].includes(assignment.status));
    expect(assignments).toHaveLength(mappings.length);
    expect(assignments.map((assignment) => assignment.status)).not.toContain('pending');
  });

  it('Get-Tenants -TriggerRefresh: lists the customer, and findTenantInformationByTenantId names its domain', async () => {
    // Modules/CIPPCore/Public/GraphHelper/Get-Tenants.ps1 with -TenantFilter.
    const relationships = await graphGet<Relationship>(
      `/v1.0/tenantRelationships/delegatedAdminRelationships?$filter=status eq 'active' and customer/tenantId eq '${customerTenantId}'&$select=customer,autoExtendDuration,endDateTime`,
    );
    expect(relationships).toHaveLength(1);
    expect(relationships[0]).toMatchObject({
      customer: { tenantId: customerTenantId, displayName: 'Contoso Dental' },
      autoExtendDuration: 'PT0S',
    });
    expect(relationships[0].endDateTime).not.toBeNull();

    // Its fallback when the customer's /domains cannot be read yet.
    const tenant = expectOk(
      await cipp<{ defaultDomainName: string }>(
        'GET',
        `/v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId='${customerTenantId}')`,
      ),
      200,
    );
    expect(tenant.body.defaultDomainName).toBe('contosodental.onmicrosoft.com');
  });

  it('Get-GraphRequestList -ReverseTenantLookup: looks the customer up through /beta/$batch', async () => {
    // Modules/CIPPCore/Public/GraphRequests/Get-GraphRequestList.ps1: one item per tenant id, named by
    // it. CIPP sends this batch with an app-only token; the SAM user's stands in.
    const lookups = await bulk([
      {
        id: customerTenantId,
        url: `tenantRelationships/findTenantInformationByTenantId(tenantId='${customerTenantId}')`,
        method: 'GET',
      },
    ]);
    expect(lookups.get(customerTenantId)).toMatchObject({
      status: 200,
      body: {
        tenantId: customerTenantId,
        displayName: 'Contoso Dental',
        defaultDomainName: 'contosodental.onmicrosoft.com',
      },
    });
  });

  it('Set-CIPPCPVConsent: consents CIPP in the customer; a second run finds it already there; ResetSP deletes and consents again', async () => {
    // Modules/CIPPCore/Public/Set-CIPPCPVConsent.ps1: PascalCase, no displayName, ConvertTo-Json.
    const consentPath = `/v1/customers/${customerTenantId}/applicationconsents`;
    const appBody = `{
  "ApplicationGrants": [
    {
      "EnterpriseApplicationId": "00000003-0000-0000-c000-000000000000",
      "Scope": "DelegatedPermissionGrant.ReadWrite.All,Directory.ReadWrite.All,AppRoleAssignment.ReadWrite.All"
    }
  ],
  "ApplicationId": "${cippApplicationId}"
}`;
    expectOk(await cipp('POST', consentPath, { body: appBody }), 201);

    // CIPP reads error.message and treats 'Permission entry already exists' as done.
    const again = await cipp<{ error: { message: string } }>('POST', consentPath, { body: appBody });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('Permission entry already exists');

    expectOk(await cipp('DELETE', `${consentPath}/${cippApplicationId}`), 204);
    expectOk(await cipp('POST', consentPath, { body: appBody }), 201);
  });

  it('Set-CIPPGDAPAutoExtend -All: a relationship with Global Administrator cannot be auto-extended, and is left as it was', async () => {
    // Modules/CIPPCore/Public/Set-CIPPGDAPAutoExtend.ps1: every PT0S relationship, PATCHed with its own ETag.
    const all = await graphGet<Relationship>('/beta/tenantRelationships/delegatedAdminRelationships');
    const relation = all.find((relationship) => relationship.id === relationshipId) as Relationship;
    expect(relation.autoExtendDuration).toBe('PT0S');
    const refused = await cipp<{ error: { message: string } }>('PATCH', relationshipPath(relation.id), {
      body: '{"autoExtendDuration":"P180D"}',
      headers: { 'If-Match': relation['@odata.etag'] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('Global Administrator');
    const unchanged = expectOk(await cipp<Relationship>('GET', relationshipPath(relation.id)), 200);
    expect(unchanged.body['@odata.etag']).toBe(relation['@odata.etag']);
  });

  it('Invoke-ExecGDAPRemoveGArole: removes Global Administrator with If-Match, sending back the other roles as read', async () => {
    // Tenant/GDAP/Invoke-ExecGDAPRemoveGArole.ps1
    const checkActive = expectOk(await cipp<Relationship>('GET', relationshipPath(relationshipId)), 200).body;
    expect(checkActive.status).toBe('active');
    expect(checkActive.accessDetails.unifiedRoles.map((role) => role.roleDefinitionId)).toContain(globalAdministrator);
    // CIPP echoes the role objects it read, whatever they hold (ConvertTo-Json -Depth 3).
    const rawJson = JSON.stringify(
      {
        accessDetails: {
          unifiedRoles: checkActive.accessDetails.unifiedRoles.filter(
            (role) => role.roleDefinitionId !== globalAdministrator,
          ),
        },
      },
      null,
      2,
    );
    expectOk(
      await cipp('PATCH', relationshipPath(relationshipId), {
        body: rawJson,
        headers: { 'If-Match': checkActive['@odata.etag'] },
      }),
      202,
    );

    const after = expectOk(await cipp<Relationship>('GET', relationshipPath(relationshipId)), 200).body;
    expect(after.accessDetails.unifiedRoles.map((role) => role.roleDefinitionId)).not.toContain(globalAdministrator);
    expect(after.accessDetails.unifiedRoles).toHaveLength(cippRoles.length - 1);
    const assignments = await graphGet<AccessAssignment>(`${relationshipPath(relationshipId)}/accessAssignments`);
    const gaGroup = mappingFor(globalAdministrator).GroupId;
    expect(assignments.find((assignment) => assignment.accessContainer.accessContainerId === gaGroup)?.status).toBe(
      'deleted',
    );
  });

  it('Invoke-ExecAutoExtendGDAP: finds the relationship in the list and sets P180D with its ETag', async () => {
    // Tenant/GDAP/Invoke-ExecAutoExtendGDAP.ps1 → Set-CIPPGDAPAutoExtend -RelationShipid.
    const all = await graphGet<Relationship>('/beta/tenantRelationships/delegatedAdminRelationships');
    const relationship = all.find((item) => item.id === relationshipId) as Relationship;
    expect(relationship['@odata.etag']).toMatch(/^W\/".+"$/);
    expectOk(
      await cipp('PATCH', relationshipPath(relationshipId), {
        body: '{"autoExtendDuration":"P180D"}',
        headers: { 'If-Match': relationship['@odata.etag'] },
      }),
      200,
    );
    const after = expectOk(await cipp<Relationship>('GET', relationshipPath(relationshipId)), 200);
    expect(after.body.autoExtendDuration).toBe('P180D');
  });

  /**
   * The items Invoke-ExecGDAPAccessAssignment.ps1 (ResetMappings) puts in its batches, shaped as it
   * writes them: its two reads, then a DELETE for an assignment whose group is not in the role
   * template, a PATCH for one whose role differs from the template's, a POST for a template group
   * with no assignment (or only deleted ones).
   */
  const resetMappingItems = {
    reads: () => [
      {
        id: 'getRelationship',
        url: `tenantRelationships/delegatedAdminRelationships/${relationshipId}`,
        method: 'GET',
      },
      {
        id: 'getAccessAssignments',
        url: `tenantRelationships/delegatedAdminRelationships/${relationshipId}/accessAssignments`,
        method: 'GET',
      },
    ],
    delete: (assignment: AccessAssignment) => ({
      id: `delete-${assignment.id}`,
      url: `tenantRelationships/delegatedAdminRelationships/${relationshipId}/accessAssignments/${assignment.id}`,
      method: 'DELETE',
      headers: { 'If-Match': assignment['@odata.etag'] },
    }),
    patch: (assignment: AccessAssignment, roleDefinitionId: string) => ({
      id: `patch-${assignment.id}`,
      url: `tenantRelationships/delegatedAdminRelationships/${relationshipId}/accessAssignments/${assignment.id}`,
      method: 'PATCH',
      body: { accessDetails: { unifiedRoles: [{ roleDefinitionId }] } },
      headers: { 'If-Match': assignment['@odata.etag'], 'Content-Type': 'application/json' },
    }),
    create: (groupId: string, roleDefinitionId: string) => ({
      id: `create-${groupId}`,
      url: `tenantRelationships/delegatedAdminRelationships/${relationshipId}/accessAssignments`,
      method: 'POST',
      body: {
        accessDetails: { unifiedRoles: [{ roleDefinitionId }] },
        accessContainer: { accessContainerId: groupId, accessContainerType: 'securityGroup' },
      },
      headers: { 'Content-Type': 'application/json' },
    }),
  };

  /** What CIPP reads from a batch answer: each item's id, status, and body.error.message on failure. */
  const outcomes = (responses: Map<string, BatchResponse>) =>
    [...responses.values()].map((response) => ({
      id: response.id,
      status: response.status,
      error: response.body?.error?.message,
    }));

  it('Invoke-ExecGDAPAccessAssignment (ResetMappings): reads through /beta/$batch, then DELETE + PATCH with If-Match + POST in one batch', async () => {
    // Tenant/GDAP/Invoke-ExecGDAPAccessAssignment.ps1, through New-GraphBulkRequest.ps1.
    const reads = await bulk(resetMappingItems.reads());
    const relationship = reads.get('getRelationship')?.body as unknown as Relationship;
    expect(reads.get('getRelationship')?.status).toBe(200);
    expect(relationship.accessDetails.unifiedRoles.map((role) => role.roleDefinitionId)).toContain(
      billingAdministrator,
    );
    const accessAssignments = reads.get('getAccessAssignments')?.body?.value as AccessAssignment[];
    const byGroup = (groupId: string): AccessAssignment =>
      accessAssignments.find(
        (assignment) => assignment.accessContainer.accessContainerId === groupId,
      ) as AccessAssignment;
    // The Global Administrator group's assignment went with the role: CIPP skips deleted ones.
    expect(byGroup(mappingFor(globalAdministrator).GroupId).status).toBe('deleted');

    // The role template differs from the invite's mappings: Billing Administrator moved to a new
    // group (the old group's assignment is deleted, the new one created), and the Global Reader
    // group holds Domain Name Administrator instead (its assignment is patched).
    const oldBilling = byGroup(mappingFor(billingAdministrator).GroupId);
    const globalReaders = byGroup(mappingFor(globalReader).GroupId);
    newBillingGroup = randomUUID();
    const changes = await bulk([
      resetMappingItems.delete(oldBilling),
      resetMappingItems.patch(globalReaders, domainNameAdministrator),
      resetMappingItems.create(newBillingGroup, billingAdministrator),
    ]);
    // CIPP counts 201, 202 and 204 as done and reports body.error.message otherwise.
    expect(outcomes(changes)).toEqual([
      { id: `delete-${oldBilling.id}`, status: 204, error: undefined },
      { id: `patch-${globalReaders.id}`, status: 202, error: undefined },
      { id: `create-${newBillingGroup}`, status: 201, error: undefined },
    ]);

    const after = await graphGet<AccessAssignment>(`${relationshipPath(relationshipId)}/accessAssignments`);
    const rolesOf = (groupId: string) =>
      after
        .filter((assignment) => assignment.accessContainer.accessContainerId === groupId)
        .map((assignment) => ({
          status: assignment.status,
          roles: assignment.accessDetails.unifiedRoles.map((role) => role.roleDefinitionId),
        }));
    expect(rolesOf(oldBilling.accessContainer.accessContainerId)).toEqual([
      { status: 'deleted', roles: [billingAdministrator] },
    ]);
    expect(rolesOf(globalReaders.accessContainer.accessContainerId)).toEqual([
      { status: 'active', roles: [domainNameAdministrator] },
    ]);
    expect(rolesOf(newBillingGroup)).toEqual([{ status: 'active', roles: [billingAdministrator] }]);
  });

  it('ResetMappings again with the original template: maps a group again whose assignment was deleted', async () => {
    const reads = await bulk(resetMappingItems.reads());
    const live = (reads.get('getAccessAssignments')?.body?.value as AccessAssignment[]).filter(
      (assignment) => !['deleting', 'deleted', 'error'].includes(assignment.status),
    );
    const liveFor = (groupId: string): AccessAssignment =>
      live.find((assignment) => assignment.accessContainer.accessContainerId === groupId) as AccessAssignment;
    const oldBillingGroup = mappingFor(billingAdministrator).GroupId;
    expect(liveFor(oldBillingGroup)).toBeUndefined();
    const moved = liveFor(newBillingGroup);
    const globalReaders = liveFor(mappingFor(globalReader).GroupId);
    const changes = await bulk([
      resetMappingItems.delete(moved),
      resetMappingItems.patch(globalReaders, globalReader),
      resetMappingItems.create(oldBillingGroup, billingAdministrator),
    ]);
    expect(outcomes(changes).map((outcome) => outcome.status)).toEqual([204, 202, 201]);

    const after = await graphGet<AccessAssignment>(`${relationshipPath(relationshipId)}/accessAssignments`);
    expect(
      after
        .filter((assignment) => assignment.accessContainer.accessContainerId === oldBillingGroup)
        .map((assignment) => assignment.status)
        .sort(),
    ).toEqual(['active', 'deleted']);
    // Every group of the invite but Global Administrator's holds its one role again.
    const nonDeleted = after.filter((assignment) => assignment.status !== 'deleted');
    expect(nonDeleted).toHaveLength(mappings.length - 1);
    for (const mapping of mappings.filter((item) => item.roleDefinitionId !== globalAdministrator)) {
      const assignment = nonDeleted.find((item) => item.accessContainer.accessContainerId === mapping.GroupId);
      expect(assignment?.accessDetails.unifiedRoles).toEqual([{ roleDefinitionId: mapping.roleDefinitionId }]);
    }
  });

  it('Invoke-ListGDAPRelationships: the relationship list CIPP shows, with ConsistencyLevel', async () => {
    // Tenant/GDAP/Invoke-ListGDAPRelationships.ps1 (-ComplexFilter adds ConsistencyLevel: eventual).
    const listed = await graphGet<Relationship>('/beta/tenantRelationships/delegatedAdminRelationships?$top=300', {
      ConsistencyLevel: 'eventual',
    });
    expect(listed.find((relationship) => relationship.id === relationshipId)).toMatchObject({
      status: 'active',
      autoExtendDuration: 'P180D',
      customer: { tenantId: customerTenantId },
    });
  });

  it('Invoke-ExecOffboardTenant (TerminateGDAP): terminates every active relationship with the customer, and only those; Invoke-ExecDeleteGDAPRelationship revokes one', async () => {
    // A second active relationship with this customer, and one with another customer.
    const second = await activeRelationshipWith(customerTenantId, customerAdmin);
    const otherCustomerTenantId = randomUUID();
    const otherAdmin = await client.token({ tid: otherCustomerTenantId, wids: [globalAdministrator] });
    const other = await activeRelationshipWith(otherCustomerTenantId, otherAdmin);

    // Tenant/Administration/Tenant/Invoke-ExecOffboardTenant.ps1
    const filter = `/v1.0/tenantRelationships/delegatedAdminRelationships?$filter=(status eq 'active') AND (customer/tenantId eq '${customerTenantId}')`;
    const toTerminate = await graphGet<Relationship>(filter);
    expect(toTerminate.map((relationship) => relationship.id).sort()).toEqual([relationshipId, second].sort());
    for (const relationship of toTerminate) {
      expectOk(
        await cipp('POST', `/v1.0/tenantRelationships/delegatedAdminRelationships/${relationship.id}/requests`, {
          body: '{"action":"terminate"}',
          headers: { 'content-type': 'application/json' },
        }),
        201,
      );
    }

    expect(await graphGet<Relationship>(filter)).toEqual([]);
    const ended = expectOk(await cipp<Relationship>('GET', relationshipPath(relationshipId)), 200).body;
    expect(ended.status).toBe('terminated');
    const assignments = await graphGet<AccessAssignment>(`${relationshipPath(relationshipId)}/accessAssignments`);
    expect(new Set(assignments.map((assignment) => assignment.status))).toEqual(new Set(['deleted']));
    expect(expectOk(await cipp<Relationship>('GET', relationshipPath(other)), 200).body.status).toBe('active');

    // Tenant/GDAP/Invoke-ExecDeleteGDAPRelationship.ps1: the same request through /beta.
    expectOk(await cipp('POST', `${relationshipPath(other)}/requests`, { body: '{"action":"terminate"}' }), 201);
    expect(expectOk(await cipp<Relationship>('GET', relationshipPath(other)), 200).body.status).toBe('terminated');
  });

  it('Invoke-ExecOffboardTenant (TerminateContract): ends the reseller relationship, named by the default domain', async () => {
    // A customer this partner resells to (Partner Center's POST /v1/customers), with a legacy DAP.
    const created = expectOk(
      await cipp<{ id: string; companyProfile: { domain: string } }>('POST', '/v1/customers', {
        body: JSON.stringify({
          companyProfile: { companyName: 'Offboarded Ltd', domain: `off${randomUUID().slice(0, 8)}` },
        }),
        headers: { 'content-type': 'application/json' },
      }),
      201,
    ).body;
    expectOk(await client.call('PUT', `/sandbox/dap/${partnerTenantId}/${created.id}`), 200);

    // Tenant/Administration/Tenant/Invoke-ExecOffboardTenant.ps1: $TenantFilter is the default domain.
    const terminated = expectOk(
      await cipp<{ relationshipToPartner: string }>('PATCH', `/v1/customers/${created.companyProfile.domain}`, {
        body: '{ "relationshipToPartner": "none" }',
        headers: { 'content-type': 'application/json' },
      }),
      200,
    );
    expect(terminated.body.relationshipToPartner).toBe('none');
    const daps = expectOk(await cipp<{ value: { customerTenantId: string }[] }>('GET', '/v1/dapRelationships'), 200);
    expect(daps.body.value.map((dap) => dap.customerTenantId)).not.toContain(created.id);
  });

  /** Another relationship, made and approved as in the invite step (CIPP's body, without Global Administrator). */
  async function activeRelationshipWith(tenantId: string, approver: string): Promise<string> {
    const created = expectOk(
      await cipp<Relationship>('POST', '/beta/tenantRelationships/delegatedAdminRelationships', {
        body: JSON.stringify({
          displayName: `CIPP_${randomUUID()}`,
          accessDetails: { unifiedRoles: [{ roleDefinitionId: globalReader }] },
          autoExtendDuration: 'P180D',
          duration: 'P730D',
        }),
      }),
      201,
    );
    expectOk(
      await cipp('POST', `${relationshipPath(created.body.id)}/requests`, {
        body: '{\n  "action": "lockForApproval"\n}',
        headers: { 'If-Match': created.body['@odata.etag'] },
      }),
      201,
    );
    expectOk(
      await client.call('POST', `${relationshipPath(created.body.id)}/requests`, {
        token: approver,
        body: { action: 'approve' },
      }),
      201,
    );
    expect((await cipp<Relationship>('GET', relationshipPath(created.body.id))).body.customer?.tenantId).toBe(tenantId);
    return created.body.id;
  }
});
