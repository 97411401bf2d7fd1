import { expectOk, relationshipsUrl, roles } from '../e2e/support';
import { signIn, statusSays, useTestbed } from './browser';
import { customerAdmin, partnerAgent, Party, readRelationship, seedRelationship } from './seed';

/**
 * The customer's pages in a real browser (SPEC §2.3, §17): the invitation the partner's link
 * opens, with Approve and Reject, and the customer's partner relationships with Terminate and
 * role removal. Each effect is confirmed through the API.
 */
describe('customer pages', () => {
  const bed = useTestbed();
  let partner: Party;
  beforeAll(async () => {
    partner = await partnerAgent(bed.client, 'Northwind Partners');
  });

  /** The partner's invitation link, as lockForApproval returns it. */
  async function invite(customer: Party, displayName: string, roleIds: string[], extra: Record<string, unknown> = {}) {
    const relationship = await seedRelationship(bed.client, partner, customer, { displayName, roleIds, ...extra });
    const locked = expectOk(await bed.client.request(partner.token, String(relationship.id), 'lockForApproval'), 201);
    return { id: String(relationship.id), invitationUrl: String(locked.body.invitationUrl) };
  }

  async function openInvitation(invitationUrl: string, customer: Party, as = 'Customer Global Administrator') {
    const tab = await bed.open();
    await tab.page.goto(invitationUrl);
    await tab.page.getByText('A partner invited your organization to a GDAP relationship.').waitFor();
    await signIn(tab.page, { tenantId: customer.tenantId, as });
    await tab.page.getByRole('heading', { level: 1, name: 'Invitation from Northwind Partners' }).waitFor();
    return tab.page;
  }

  it("opens the partner's link, shows what is asked with a Global Administrator warning, and approves", async () => {
    const customer = await customerAdmin(bed.client, 'Fabrikam Ltd');
    const { id, invitationUrl } = await invite(customer, 'Full admin for migration', [
      roles.globalAdministrator,
      roles.exchangeAdministrator,
    ]);
    expect(invitationUrl).toBe(`${bed.host.url}/portal/invitations/${id}`);

    const page = await openInvitation(invitationUrl, customer);
    expect(page.url()).toBe(invitationUrl);
    await page.getByRole('note').getByText('This request includes Global Administrator,').waitFor();
    await page.getByRole('cell', { name: 'Global Administrator', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'Exchange Administrator', exact: true }).waitFor();
    // Descriptions come from roleDefinitions, beside each name.
    const description = await page
      .getByRole('row', { name: /^Exchange Administrator/ })
      .locator('td')
      .nth(1)
      .textContent();
    expect(String(description).length).toBeGreaterThan(20);
    await page.getByText('730 days').waitFor();
    await page.getByText('End date if approved now').waitFor();

    await page.getByRole('button', { name: 'Approve' }).click();
    await statusSays(page, 'Approved. Northwind Partners has these roles in your organization until');
    const approved = await readRelationship(bed.client, partner.token, id);
    expect(approved.status).toBe('active');
    expect(approved.customer).toEqual({ tenantId: customer.tenantId, displayName: 'Fabrikam Ltd' });
    await page.getByText('This invitation is no longer waiting for a decision.').waitFor();
  });

  it('rejects an invitation, with no warning when Global Administrator is not asked', async () => {
    const customer = await customerAdmin(bed.client, 'Fabrikam Ltd');
    const { id, invitationUrl } = await invite(customer, 'Mailboxes only', [roles.exchangeAdministrator]);
    const page = await openInvitation(invitationUrl, customer);
    expect(await page.getByRole('note').count()).toBe(0);
    await page.getByRole('button', { name: 'Reject' }).click();
    await statusSays(page, 'Rejected. Northwind Partners gets no access');
    expect((await readRelationship(bed.client, partner.token, id)).status).toBe('terminated');
  });

  it("lets the customer's Delegated Admin Relationship Administrator approve", async () => {
    const customer = await customerAdmin(bed.client, 'Fabrikam Ltd');
    const { id, invitationUrl } = await invite(customer, 'Approved by the relationship admin', [
      roles.exchangeAdministrator,
    ]);
    const page = await openInvitation(invitationUrl, customer, 'Customer Delegated Admin Relationship Administrator');
    await page.getByRole('button', { name: 'Approve' }).click();
    await statusSays(page, 'Approved.');
    expect((await readRelationship(bed.client, partner.token, id)).status).toBe('active');
  });

  it("lists the customer's partner relationships, removes a role and terminates one", async () => {
    const customer = await customerAdmin(bed.client, 'Fabrikam Ltd');
    const keep = await seedRelationship(bed.client, partner, customer, {
      displayName: 'Exchange and Intune',
      roleIds: [roles.exchangeAdministrator, roles.intuneAdministrator],
      active: true,
    });
    const end = await seedRelationship(bed.client, partner, customer, { displayName: 'To be ended', active: true });

    const tab = await bed.open();
    const { page } = tab;
    await page.goto(`${bed.host.url}/portal/`);
    await signIn(page, { tenantId: customer.tenantId, as: 'Customer Global Administrator' });
    await page.getByRole('heading', { level: 1, name: 'Partner relationships' }).waitFor();
    const row = page.getByRole('row', { name: /Exchange and Intune/ });
    await row.getByRole('cell', { name: 'Northwind Partners' }).waitFor();

    await page.getByRole('button', { name: 'Roles of Exchange and Intune' }).click();
    await page.getByRole('button', { name: 'Remove Intune Administrator from Exchange and Intune' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove Intune Administrator?' });
    await dialog.getByRole('button', { name: 'Remove role' }).click();
    await statusSays(page, 'Intune Administrator removed from Exchange and Intune.');
    const reduced = await readRelationship(bed.client, partner.token, String(keep.id));
    expect(reduced.accessDetails).toEqual({ unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] });

    await page.getByRole('button', { name: 'Terminate To be ended' }).click();
    await page
      .getByRole('dialog', { name: 'Terminate To be ended?' })
      .getByRole('button', { name: 'Terminate' })
      .click();
    await statusSays(page, 'To be ended is terminated');
    expect((await readRelationship(bed.client, partner.token, String(end.id))).status).toBe('terminated');
    await page
      .getByRole('row', { name: /To be ended/ })
      .getByRole('cell', { name: 'Terminated' })
      .waitFor();

    const all = expectOk(await bed.client.call('GET', relationshipsUrl, { token: customer.token }), 200);
    expect((all.body as { value: unknown[] }).value).toHaveLength(2);
  });
});
