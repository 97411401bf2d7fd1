import { randomUUID } from 'node:crypto';
import { findRole } from '../../shared/domain/roles';
import { expectGraphError, expectOk, roles, useTestHost } from './support';

/**
 * The two Graph reads GDAP tools make next to the relationship routes (SPEC §14): tenant
 * information by tenant id, and the role catalog as directory role definitions. Any
 * authenticated caller may make them.
 */
const roleDefinitionsUrl = '/v1.0/roleManagement/directory/roleDefinitions';
const tenantInformationUrl = (tenantId: string, quote = "'") =>
  `/v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId=${quote}${tenantId}${quote})`;

interface RoleDefinition {
  id: string;
  templateId: string;
  displayName: string;
  description: string;
  isBuiltIn: boolean;
  isEnabled: boolean;
  rolePermissions: { allowedResourceActions: string[]; condition: string | null }[];
  version: string;
  resourceScopes: string[];
}

interface RoleDefinitions {
  '@odata.context': string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  value: Partial<RoleDefinition>[];
}

describe('Graph directory reads', () => {
  const { client, host } = useTestHost();
  let anyone: string;

  beforeAll(async () => {
    // No app role and no directory role: these reads need only a valid token.
    anyone = await client.token({ tid: randomUUID() });
  });

  describe('GET roleManagement/directory/roleDefinitions', () => {
    it('lists every built-in role as a unifiedRoleDefinition in one page', async () => {
      const { body } = expectOk(await client.call<RoleDefinitions>('GET', roleDefinitionsUrl, { token: anyone }), 200);
      expect(body['@odata.context']).toBe(`${host.url}/v1.0/$metadata#roleManagement/directory/roleDefinitions`);
      expect(body['@odata.nextLink']).toBeUndefined();
      expect(body.value.length).toBeGreaterThanOrEqual(120);
      const globalAdministrator = body.value.find((role) => role.id === roles.globalAdministrator) as RoleDefinition;
      expect(globalAdministrator).toEqual({
        id: roles.globalAdministrator,
        templateId: roles.globalAdministrator,
        displayName: 'Global Administrator',
        description: expect.stringContaining('Can manage all aspects'),
        isBuiltIn: true,
        isEnabled: true,
        resourceScopes: ['/'],
        version: '1',
        rolePermissions: [
          {
            allowedResourceActions: expect.arrayContaining(['microsoft.azure.supportTickets/allEntities/allTasks']),
            condition: null,
          },
        ],
      });
    });

    it('filters on templateId, displayName (any case) and isBuiltIn', async () => {
      const byTemplate = expectOk(
        await client.call<RoleDefinitions>(
          'GET',
          `${roleDefinitionsUrl}?$filter=templateId eq '892c5842-a9a6-463a-8041-72aa08ca3cf6'`,
          { token: anyone },
        ),
        200,
      ).body;
      expect(byTemplate.value.map((role) => role.displayName)).toEqual(['Cloud App Security Administrator']);

      const byName = expectOk(
        await client.call<RoleDefinitions>(
          'GET',
          `${roleDefinitionsUrl}?$filter=displayName eq 'authentication policy administrator'&$select=id,displayName`,
          { token: anyone },
        ),
        200,
      ).body;
      expect(byName.value).toEqual([
        { id: '0526716b-113d-4c15-b2c8-68e3c22b9f80', displayName: 'Authentication Policy Administrator' },
      ]);

      const builtIn = await client.call<RoleDefinitions>(
        'GET',
        `${roleDefinitionsUrl}?$filter=isBuiltIn eq true&$count=true&$top=1`,
        { token: anyone },
      );
      const notBuiltIn = await client.call<RoleDefinitions>('GET', `${roleDefinitionsUrl}?$filter=isBuiltIn eq false`, {
        token: anyone,
      });
      expect(expectOk(builtIn, 200).body['@odata.count']).toBeGreaterThanOrEqual(120);
      expect(expectOk(notBuiltIn, 200).body.value).toEqual([]);
    });

    it('pages with $top and a nextLink that ends on the last role', async () => {
      const seen: string[] = [];
      let url: string | undefined = `${roleDefinitionsUrl}?$top=50&$select=displayName`;
      let pages = 0;
      while (url) {
        const page: RoleDefinitions = expectOk(
          await client.call<RoleDefinitions>('GET', url, { token: anyone }),
          200,
        ).body;
        seen.push(...page.value.map((role) => String(role.id)));
        url = page['@odata.nextLink'];
        pages++;
      }
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBeGreaterThanOrEqual(120);
    });

    it('reads one role by id, in any case', async () => {
      const relationshipAdministrator = 'fc8ad4e2-40e4-4724-8317-bcda7503ecbf';
      const { body } = expectOk(
        await client.call<RoleDefinition & { '@odata.context': string }>(
          'GET',
          `${roleDefinitionsUrl}/${relationshipAdministrator.toUpperCase()}`,
          { token: anyone },
        ),
        200,
      );
      expect(body['@odata.context']).toBe(
        `${host.url}/v1.0/$metadata#roleManagement/directory/roleDefinitions/$entity`,
      );
      expect(body).toMatchObject({
        id: relationshipAdministrator,
        templateId: relationshipAdministrator,
        displayName: 'Customer Delegated Admin Relationship Administrator',
        rolePermissions: [
          {
            allowedResourceActions: expect.arrayContaining([
              'microsoft.commerce.tenantRelationships/customerDelegatedAdminPrivileges/allProperties/allTasks',
            ]),
          },
        ],
      });
    });

    it("shows a role's actions from Microsoft's reference in rolePermissions, under /v1.0 and /beta", async () => {
      const helpdesk = '729827e3-9c14-49f7-bb1b-9608f156bbb8';
      for (const version of ['v1.0', 'beta']) {
        const { body } = expectOk(
          await client.call<RoleDefinition>('GET', `/${version}/roleManagement/directory/roleDefinitions/${helpdesk}`, {
            token: anyone,
          }),
          200,
        );
        expect(body.displayName).toBe('Helpdesk Administrator');
        expect(body.rolePermissions).toEqual([
          { allowedResourceActions: [...(findRole(helpdesk)?.permissions ?? [])], condition: null },
        ]);
        expect(body.rolePermissions[0].allowedResourceActions).toEqual(
          expect.arrayContaining([
            'microsoft.azure.supportTickets/allEntities/allTasks',
            'microsoft.directory/users/password/update',
            'microsoft.directory/users/invalidateAllRefreshTokens',
          ]),
        );
      }
      const reader = expectOk(
        await client.call<RoleDefinitions>(
          'GET',
          `${roleDefinitionsUrl}?$filter=displayName eq 'Global Reader'&$select=id,rolePermissions`,
          { token: anyone },
        ),
        200,
      ).body.value[0];
      const actions = reader.rolePermissions?.[0].allowedResourceActions ?? [];
      expect(actions).toContain('microsoft.directory/users/allProperties/read');
      expect(actions).not.toContain('microsoft.azure.supportTickets/allEntities/allTasks');
    });

    it('refuses unknown roles, bad queries and missing tokens in the Graph envelope', async () => {
      expectGraphError(
        await client.call('GET', `${roleDefinitionsUrl}/7f3b2c1d-0000-4000-8000-000000000001`, { token: anyone }),
        404,
        'ResourceNotFound',
      );
      expectGraphError(
        await client.call('GET', `${roleDefinitionsUrl}?$filter=isBuiltIn eq 'yes'`, { token: anyone }),
        400,
        'badRequest',
      );
      expectGraphError(
        await client.call('GET', `${roleDefinitionsUrl}?$select=permissions`, { token: anyone }),
        400,
        'badRequest',
      );
      expectGraphError(await client.call('GET', roleDefinitionsUrl), 401, 'InvalidAuthenticationToken');
    });
  });

  describe('GET tenantRelationships/findTenantInformationByTenantId', () => {
    it('answers a customer created through Partner Center with its name and initial domain', async () => {
      const partner = await client.token({ tid: randomUUID(), roles: ['AdminAgent'] });
      const prefix = `fabrikam${randomUUID().slice(0, 8)}`;
      const created = expectOk(
        await client.call('POST', '/v1/customers', {
          token: partner,
          body: { companyProfile: { companyName: 'Fabrikam Inc', domain: prefix } },
        }),
        201,
      );
      const tenantId = String(created.body.id);
      const { body } = expectOk(await client.call('GET', tenantInformationUrl(tenantId), { token: anyone }), 200);
      expect(body).toEqual({
        '@odata.context': `${host.url}/v1.0/$metadata#microsoft.graph.tenantInformation`,
        tenantId,
        displayName: 'Fabrikam Inc',
        defaultDomainName: `${prefix}.onmicrosoft.com`,
        federationBrandName: null,
      });
    });

    it('derives an onmicrosoft.com default domain for a tenant known only by name, and accepts %27 quotes', async () => {
      const tenantId = randomUUID();
      expectOk(
        await client.call('PUT', `/sandbox/tenants/${tenantId}`, { body: { displayName: 'Northwind Traders, Inc.' } }),
        200,
      );
      for (const url of [tenantInformationUrl(tenantId.toUpperCase()), tenantInformationUrl(tenantId, '%27')]) {
        const { body } = expectOk(await client.call('GET', url, { token: anyone }), 200);
        expect(body).toMatchObject({
          tenantId,
          displayName: 'Northwind Traders, Inc.',
          defaultDomainName: 'northwindtradersinc.onmicrosoft.com',
          federationBrandName: null,
        });
      }
    });

    it('answers 404 for a tenant the service does not know and 400 for a malformed id', async () => {
      expectGraphError(
        await client.call('GET', tenantInformationUrl(randomUUID()), { token: anyone }),
        404,
        'ResourceNotFound',
      );
      expectGraphError(await client.call('GET', tenantInformationUrl('contoso'), { token: anyone }), 400, 'badRequest');
      expectGraphError(await client.call('GET', tenantInformationUrl(randomUUID())), 401, 'InvalidAuthenticationToken');
    });
  });
});
