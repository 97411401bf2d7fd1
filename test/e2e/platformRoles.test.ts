import { exportJWK, generateKeyPair, KeyLike, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { verifyToken } from '../../shared/http/auth';
import { Client, expectGraphError, expectOk, startTestHost, TestHost } from './support';

/**
 * SPEC §1: platform app roles count only in their home tenant, and a multi-tenant registration's
 * tokens carry each tenant's own issuer (`AUTH_ISSUER` with `{tenantid}`). Configuration is read
 * once per test file, so it is set before the host starts.
 */
const operatorTenantId = randomUUID();
const supportTenantId = randomUUID();
const audience = 'api://gdap-platform-roles-tests';
const issuerOf = (tenantId: string) => `https://login.microsoftonline.com/${tenantId}/v2.0`;

describe('platform roles tied to their tenant, issuers per tenant', () => {
  let key: KeyLike;
  let host: TestHost;
  let client: Client;

  const token = (tid: string, roles: string[], issuer = issuerOf(tid)): Promise<string> =>
    new SignJWT({ tid, oid: randomUUID(), roles })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key);

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey;
    Object.assign(process.env, {
      AUTH_ISSUER: 'https://login.microsoftonline.com/{tenantid}/v2.0',
      AUTH_AUDIENCE: audience,
      AUTH_JWKS: JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k', alg: 'RS256' }] }),
      OPERATOR_TENANT_ID: operatorTenantId.toUpperCase(),
      SUPPORT_TENANT_ID: supportTenantId,
    });
    host = await startTestHost();
    client = new Client(host.url);
  });
  afterAll(() => host.close());

  const profile = (partnerTenantId: string, bearer: string) =>
    client.call('PUT', `/v1/partners/${partnerTenantId}/profile`, {
      token: bearer,
      body: { partnerTypes: ['directBill'], programStates: { directBill: 'active' }, defaultGdapOptOut: false },
    });

  it('honours ServiceOperator from OPERATOR_TENANT_ID only', async () => {
    const partnerTenantId = randomUUID();
    expectOk(await profile(partnerTenantId, await token(operatorTenantId, ['ServiceOperator'])), 200);
    const impostor = await token(randomUUID(), ['ServiceOperator']);
    expectGraphError(await profile(partnerTenantId, impostor), 403, 'Authorization_RequestDenied');
  });

  it('honours SupportEngineer from SUPPORT_TENANT_ID only, and keeps every other role', async () => {
    const engineer = await verifyToken(await token(supportTenantId, ['SupportEngineer', 'ServiceOperator']));
    expect(engineer.appRoles).toEqual(['SupportEngineer']);
    const elsewhere = await verifyToken(await token(randomUUID(), ['SupportEngineer', 'AdminAgent']));
    expect(elsewhere.appRoles).toEqual(['AdminAgent']);
  });

  it("accepts each tenant's own issuer, and refuses a token whose issuer names another tenant than its tid", async () => {
    const partner = randomUUID();
    expectOk(
      await client.call('GET', '/v1.0/tenantRelationships/delegatedAdminRelationships', {
        token: await token(partner, ['AdminAgent']),
      }),
      200,
    );
    const forged = await token(partner, ['AdminAgent'], issuerOf(randomUUID()));
    expectGraphError(
      await client.call('GET', '/v1.0/tenantRelationships/delegatedAdminRelationships', { token: forged }),
      401,
      'InvalidAuthenticationToken',
    );
  });
});
