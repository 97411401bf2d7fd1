import { randomUUID } from 'node:crypto';
import { expectOk } from '../e2e/support';
import { signIn, statusSays, useTestbed } from './browser';
import { Body } from './seed';

/**
 * "Microsoft Support access requests" in a real browser (SPEC §8.3, §17): the seed's cross-tenant
 * flow, where one administrator of both tenants approves (the page collects the resource
 * tenant's sign-in), removes the access later in the resource tenant, and rejects another request.
 */
describe('support pages', () => {
  const bed = useTestbed();
  const serviceSupportAdministrator = 'f023fd81-a637-4b56-95fd-791ac0226033';
  const microsoftTenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';

  /** A support request filed in A about B by an admin of both, and the engineer's pending access request for B. */
  async function pendingRequest(justification: string) {
    const [a, b] = [randomUUID(), randomUUID()];
    const email = `admin-${randomUUID().slice(0, 8)}@contoso.example`;
    const engineerId = randomUUID();
    const expertise = `Identity ${randomUUID().slice(0, 8)}`;
    expectOk(
      await bed.client.call('PUT', `/sandbox/supportEngineers/${engineerId}`, {
        body: { displayName: 'Avery Engineer', expertise: [expertise] },
      }),
      201,
    );
    const engineer = await bed.client.token({ tid: microsoftTenantId, oid: engineerId, roles: ['SupportEngineer'] });
    const adminOfA = await bed.client.token({ tid: a, wids: [serviceSupportAdministrator], email });
    const filed = expectOk(
      await bed.client.call('POST', '/v1.0/support/requests', {
        token: adminOfA,
        body: {
          title: 'Users of the other tenant cannot sign in',
          description: 'Conditional access blocks them since Monday.',
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
        body: { supportRequestId: filed.body.id, resourceTenantId: b, justification },
      }),
      201,
    );
    const adminOfB = await bed.client.token({ tid: b, wids: [serviceSupportAdministrator], email });
    return { a, b, email, adminOfA, adminOfB, accessRequest: asked.body as Body };
  }

  async function openSupport(tenantId: string, email: string) {
    const tab = await bed.openAs({ tenantId, as: 'Tenant Service Support Administrator', email }, '/portal/support');
    await tab.page.getByRole('heading', { level: 1, name: 'Microsoft Support access requests' }).waitFor();
    return tab.page;
  }

  it('approves with the resource tenant sign-in, then removes the access in the resource tenant', async () => {
    const { a, b, email, adminOfA, adminOfB, accessRequest } = await pendingRequest(
      'Read the sign-in logs of tenant B',
    );
    const page = await openSupport(a, email);
    const row = page.getByRole('row', { name: /Read the sign-in logs of tenant B/ });
    await row.getByRole('cell', { name: 'Avery Engineer', exact: true }).waitFor();
    await row.getByText('Users of the other tenant cannot sign in').waitFor();
    for (const header of ['Engineer', 'Support request', 'Justification', 'Requested', 'Expires']) {
      await page.getByRole('columnheader', { name: header, exact: true }).first().waitFor();
    }

    await row.getByRole('button', { name: 'Approve the request of Avery Engineer' }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve access to the resource tenant' });
    expect(await dialog.getByLabel('Resource tenant id').inputValue()).toBe(b);
    await dialog.getByRole('button', { name: 'Sign in to the resource tenant and approve' }).click();
    await statusSays(page, `Approved: Avery Engineer may read the identity diagnostic data of tenant ${b}`);
    const approved = expectOk(
      await bed.client.call('GET', `/v1.0/support/accessRequests/${String(accessRequest.id)}`, { token: adminOfA }),
      200,
    );
    expect(approved.body.status).toBe('approved');
    await page
      .getByRole('row', { name: /Read the sign-in logs of tenant B/ })
      .getByRole('cell', { name: 'Approved' })
      .waitFor();

    // The same administrator in the resource tenant sees the approval and removes it.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, { tenantId: b, as: 'Tenant Service Support Administrator', email });
    await page.getByRole('heading', { level: 1, name: 'Microsoft Support access requests' }).waitFor();
    await page.getByRole('button', { name: 'Remove access of Avery Engineer' }).click();
    await page.getByRole('dialog', { name: 'Remove access?' }).getByRole('button', { name: 'Remove access' }).click();
    await statusSays(page, 'Access removed: Avery Engineer can no longer read');
    const approvals = expectOk(
      await bed.client.call<{ value: Body[] }>('GET', '/v1.0/support/accessApprovals', { token: adminOfB }),
      200,
    );
    expect(approvals.body.value.map((item) => item.status)).toEqual(['removed']);
    await page
      .getByRole('row', { name: /Approval in this tenant/ })
      .getByRole('cell', { name: 'Removed' })
      .waitFor();
  });

  it('rejects a pending request, which then shows in the history', async () => {
    const { a, email, adminOfA, accessRequest } = await pendingRequest('Compare the tenants');
    const page = await openSupport(a, email);
    await page.getByRole('button', { name: 'Reject the request of Avery Engineer' }).click();
    await statusSays(page, 'Rejected: Avery Engineer gets no access');
    const rejected = expectOk(
      await bed.client.call('GET', `/v1.0/support/accessRequests/${String(accessRequest.id)}`, { token: adminOfA }),
      200,
    );
    expect(rejected.body.status).toBe('rejected');
    await page.getByText('No request is waiting for a decision.').waitFor();
    await page
      .getByRole('row', { name: /Compare the tenants|Users of the other tenant/ })
      .getByRole('cell', { name: 'Rejected' })
      .waitFor();
  });
});
