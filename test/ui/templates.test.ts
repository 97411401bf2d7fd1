import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Fleet, Json, jobsUrl, templatesUrl } from '../e2e/fleet';
import { expectOk, relationshipsUrl, roles } from '../e2e/support';
import { PortalPage, statusSays, useTestbed } from './browser';
import { customerAdmin, partnerAgent, Party, seedRelationship } from './seed';

/**
 * The partner's GDAP templates and jobs pages in a real browser (SPEC §15, §17), with the queue
 * triggers running: a template made with the form, customers pasted and assigned, the job followed
 * live while a customer approves, cancel, CSV; drift and its repair; edit, unassign and delete; a
 * job of each fleet kind, retry, the jobs list. Each effect is confirmed through the API.
 */
describe('templates and jobs pages', () => {
  const bed = useTestbed({ runQueues: true });
  let fleet: Fleet;
  beforeAll(() => {
    fleet = new Fleet(bed.client);
  });

  const openAs = (partner: Party, path: string): Promise<PortalPage> =>
    bed.openAs({ tenantId: partner.tenantId, as: 'Partner Admin Agent' }, path);

  const api = async <T = Json>(method: string, url: string, token: string, body?: unknown): Promise<T> =>
    (await bed.client.call<T>(method, url, { token, body })).body;

  const importDap = (partner: Party, customer: Party) => fleet.importDap(partner.tenantId, customer.tenantId);

  const templatesOf = async (partner: Party): Promise<Json[]> =>
    (await api<{ value: Json[] }>('GET', templatesUrl, partner.token)).value;

  /** Picks roles for a group of the template form by finding each by name. */
  async function chooseRoles(page: PortalPage['page'], group: number, names: string[]): Promise<void> {
    const fieldset = page.getByRole('group', { name: `Group ${group}`, exact: true });
    for (const name of names) {
      await fieldset.getByLabel('Find a role').fill(name);
      await fieldset.getByRole('checkbox', { name, exact: true }).check();
    }
    await fieldset.getByText(`Chosen: ${names.join(', ')}`).waitFor();
  }

  it('creates a template, assigns pasted customers and follows the job live: an approval, the CSV, cancel', async () => {
    const partner = await partnerAgent(bed.client, 'Northwind Partners');
    const withDap = await customerAdmin(bed.client, 'Contoso Pharma');
    const first = await customerAdmin(bed.client, 'Fabrikam Ltd');
    const second = await customerAdmin(bed.client, 'Tailspin Toys');
    await importDap(partner, withDap);
    const [helpdesk, devices] = [randomUUID(), randomUUID()];

    const { page } = await openAs(partner, '/portal/templates');
    await page.getByRole('table', { name: 'Templates' }).getByText('No templates yet').waitFor();
    await page.getByRole('link', { name: 'New template' }).click();
    await page.getByRole('heading', { level: 1, name: 'New GDAP template' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Helpdesk tier 1');
    await page.getByLabel('Relationship name prefix').fill('HD');
    await page.getByLabel('Duration (days)').fill('365');
    await page.getByRole('group', { name: 'Group 1', exact: true }).getByLabel('Security group id').fill(helpdesk);
    await chooseRoles(page, 1, ['Exchange Administrator', 'Global Reader']);
    await page.getByRole('button', { name: 'Add a security group' }).click();
    await page.getByRole('group', { name: 'Group 2', exact: true }).getByLabel('Security group id').fill(devices);
    await chooseRoles(page, 2, ['Intune Administrator']);
    await page.getByRole('button', { name: 'Create template' }).click();

    await page.getByRole('heading', { level: 1, name: 'Helpdesk tier 1' }).waitFor();
    await statusSays(page, 'Template Helpdesk tier 1 created. Assign customers to it below.');
    const [template] = await templatesOf(partner);
    expect(template).toMatchObject({ displayName: 'Helpdesk tier 1', duration: 'P365D', relationshipNamePrefix: 'HD' });
    expect(template.accessAssignments).toEqual([
      {
        accessContainer: { accessContainerId: helpdesk, accessContainerType: 'securityGroup' },
        accessDetails: {
          unifiedRoles: expect.arrayContaining([
            { roleDefinitionId: roles.exchangeAdministrator },
            { roleDefinitionId: roles.globalReader },
          ]),
        },
      },
      {
        accessContainer: { accessContainerId: devices, accessContainerType: 'securityGroup' },
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.intuneAdministrator }] },
      },
    ]);
    await page.getByRole('cell', { name: 'Intune Administrator', exact: true }).first().waitFor();

    // Pasted as people paste: one a line, a comma, a repeat.
    await page
      .getByLabel('Customer tenant ids')
      .fill(`${withDap.tenantId}\n${first.tenantId}, ${second.tenantId}\n${first.tenantId}\n`);
    await page.getByRole('button', { name: 'Assign customers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Assign template job' }).waitFor();
    await statusSays(page, 'Assigning 3 customers to Helpdesk tier 1 (1 repeated id left out).');
    const jobId = page.url().split('/').pop() as string;
    // The DAP customer is onboarded at once (implied consent); the other two wait for their approval.
    await page.getByText('3 items: 1 succeeded, 0 failed, 2 pending.', { exact: true }).waitFor();
    await page.getByRole('definition').getByText('Running', { exact: true }).waitFor();
    const items = page.getByRole('table', { name: 'Items' }).locator('tbody tr');
    await items.filter({ hasText: 'Fabrikam Ltd' }).getByText('Awaiting approval').waitFor();
    expect(await page.getByRole('link', { name: 'Invitation link' }).count()).toBe(2);

    // The customer approves elsewhere; the page follows without being reloaded.
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    const apiItems = await fleet.items(partner.token, `${jobsUrl}/${jobId}`);
    const firstItem = apiItems.find((item) => item.customerTenantId === first.tenantId) as Json;
    expectOk(await bed.client.request(first.token, String(firstItem.relationshipId), 'approve'), 201);
    await page.getByText('3 items: 2 succeeded, 0 failed, 1 pending.', { exact: true }).waitFor({ timeout: 20_000 });
    await items.filter({ hasText: 'Fabrikam Ltd' }).getByText('Completed').waitFor();
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    const groups = await fleet.assignments(partner.token, firstItem.relationshipId);
    expect([...groups.keys()].sort()).toEqual([helpdesk, devices].sort());

    // The invitation links, as a CSV file.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download items as CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`gdapJob-${jobId}-items.csv`);
    const csv = readFileSync(await download.path(), 'utf8');
    const secondItem = apiItems.find((item) => item.customerTenantId === second.tenantId) as Json;
    expect(csv.split('\r\n')[0]).toBe(
      'id,customerTenantId,relationshipId,state,attempts,invitationUrl,warnings,errorCode,errorMessage',
    );
    expect(csv).toContain(`"${second.tenantId}"`);
    expect(csv).toContain(`"${String(secondItem.invitationUrl)}"`);
    await statusSays(page, `The items were exported as gdapJob-${jobId}-items.csv.`);

    await page.getByRole('button', { name: 'Cancel job' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this job?' });
    await dialog.getByRole('button', { name: 'Cancel job' }).click();
    await statusSays(page, 'The job ended: Canceled. 3 items: 2 succeeded, 0 failed, 1 canceled, 0 pending.');
    expect(await fleet.job(partner.token, `${jobsUrl}/${jobId}`)).toMatchObject({
      status: 'canceled',
      counts: { total: 3, succeeded: 2, canceled: 1, pending: 0 },
    });
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
  });

  it("shows each customer's drift, reconciles it, and edits, unassigns and deletes the template", async () => {
    const partner = await partnerAgent(bed.client, 'Northwind Partners');
    const customer = await customerAdmin(bed.client, 'Contoso Pharma');
    await importDap(partner, customer);
    const groups = [randomUUID(), randomUUID()];
    const template = await fleet.template(partner.token, groups, { displayName: 'Helpdesk tier 1' });
    const assigned = await fleet.settledJob(
      partner.token,
      await fleet.assign(partner.token, template.id, [customer.tenantId]),
    );
    const relationshipId = String(assigned.items[0].relationshipId);
    // Someone removes a group by hand: the relationship drifts from its template.
    const live = await api<{ value: Json[] }>(
      'GET',
      `${relationshipsUrl}/${relationshipId}/accessAssignments`,
      partner.token,
    );
    const removed = live.value.find((item) => (item.accessContainer as Json).accessContainerId === groups[1]) as Json;
    const deletion = await bed.client.call(
      'DELETE',
      `${relationshipsUrl}/${relationshipId}/accessAssignments/${String(removed.id)}`,
      {
        token: partner.token,
        headers: { 'if-match': '*' },
      },
    );
    expect(deletion.status).toBe(204);

    const { page } = await openAs(partner, '/portal/templates');
    await page.getByRole('link', { name: 'Helpdesk tier 1' }).click();
    await page.getByRole('heading', { level: 1, name: 'Helpdesk tier 1' }).waitFor();
    const customers = page.getByRole('table', { name: /Customers of this template/ });
    const row = customers.locator('tbody tr').filter({ hasText: 'Contoso Pharma' });
    await row.getByText(`Missing group ${groups[1]}`).waitFor();
    await page.getByRole('table', { name: /1 drifted customer on this page/ }).waitFor();

    await page.getByRole('button', { name: 'Reconcile drifted customers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reconcile template job' }).waitFor();
    await page.getByText('1 item: 1 succeeded, 0 failed, 0 pending.', { exact: true }).waitFor();
    expect([...(await fleet.assignments(partner.token, relationshipId)).keys()].sort()).toEqual([...groups].sort());
    await page.getByRole('link', { name: 'Helpdesk tier 1' }).click();
    await row.getByText('Matches the template').waitFor();

    // Edit: a new name and one group fewer, which reconciles the relationship made from it.
    await page.getByRole('button', { name: 'Edit template' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Helpdesk tier 2');
    await page.getByRole('button', { name: 'Remove group 2' }).click();
    await page.getByRole('button', { name: 'Save template' }).click();
    await statusSays(page, 'Template Helpdesk tier 2 saved. Its relationships are being brought in line with it.');
    await page.getByRole('heading', { level: 1, name: 'Helpdesk tier 2' }).waitFor();
    const saved = await api('GET', `${templatesUrl}/${String(template.id)}`, partner.token);
    expect(saved.displayName).toBe('Helpdesk tier 2');
    expect((saved.accessAssignments as Json[]).map((item) => (item.accessContainer as Json).accessContainerId)).toEqual(
      [groups[0]],
    );
    await page.getByRole('link', { name: 'Watch the reconcile job' }).click();
    await page.getByText('1 item: 1 succeeded, 0 failed, 0 pending.', { exact: true }).waitFor();
    expect([...(await fleet.assignments(partner.token, relationshipId)).keys()]).toEqual([groups[0]]);
    await page.getByRole('link', { name: 'Helpdesk tier 2' }).click();

    await page.getByRole('checkbox', { name: 'Select Contoso Pharma' }).check();
    await page.getByRole('button', { name: 'Unassign selected' }).click();
    await page.getByRole('dialog', { name: 'Unassign customers?' }).getByRole('button', { name: 'Unassign' }).click();
    await statusSays(page, '1 customer unassigned. Their relationships were left as they are.');
    await customers.getByText('No customer is assigned to this template.').waitFor();
    expect(
      (await api<{ value: Json[] }>('GET', `${templatesUrl}/${String(template.id)}/customers`, partner.token)).value,
    ).toEqual([]);

    await page.getByRole('button', { name: 'Delete template' }).click();
    await page
      .getByRole('dialog', { name: 'Delete this template?' })
      .getByRole('button', { name: 'Delete template' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'GDAP templates' }).waitFor();
    await statusSays(page, 'Template Helpdesk tier 2 deleted. Its relationships were left as they are.');
    expect(
      (await bed.client.call('GET', `${templatesUrl}/${String(template.id)}`, { token: partner.token })).status,
    ).toBe(404);
    expect((await fleet.relationship(partner.token, relationshipId)).status).toBe('active');
  });

  it('starts a job of each kind from the form (one by keyboard only), retries the failed, and lists them', async () => {
    const partner = await partnerAgent(bed.client, 'Northwind Partners');
    const customer = await customerAdmin(bed.client, 'Fabrikam Ltd');
    const [one, two] = await Promise.all(
      ['Fabrikam GA one', 'Fabrikam GA two'].map((displayName) =>
        seedRelationship(bed.client, partner, customer, {
          displayName,
          roleIds: [roles.globalAdministrator, roles.exchangeAdministrator],
          active: true,
        }),
      ),
    );
    const ids = [String(one.id), String(two.id)];
    const { page } = await openAs(partner, '/portal/jobs');
    await page.getByRole('table', { name: 'Jobs, newest first' }).getByText('No jobs yet.').waitFor();

    const startJob = async (kind: string, targets: string, options: () => Promise<void> = async () => {}) => {
      await page.getByRole('link', { name: 'New job' }).click();
      await page.getByRole('heading', { level: 1, name: 'New job' }).waitFor();
      await page.getByRole('radio', { name: kind }).check();
      await page.getByRole('textbox').fill(targets);
      await options();
      await page.getByRole('button', { name: 'Start job' }).click();
    };
    const allJobs = () => page.getByRole('link', { name: 'All jobs' }).click();

    await startJob('Remove Global Administrator', ids.join('\n'), () =>
      page.getByRole('checkbox', { name: 'Then switch auto-extend on (180 days)' }).check(),
    );
    await page.getByRole('heading', { level: 1, name: 'Remove Global Administrator job' }).waitFor();
    await page.getByText('2 items: 2 succeeded, 0 failed, 0 pending.', { exact: true }).waitFor();
    for (const id of ids) {
      const relationship = await fleet.relationship(partner.token, id);
      expect(relationship.autoExtendDuration).toBe('P180D');
      expect(relationship.accessDetails).toEqual({ unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] });
    }

    // Set auto-extend off, by keyboard only: arrows move within a radio group, Tab between controls.
    await allJobs();
    await page.getByRole('link', { name: 'New job' }).click();
    await page.getByRole('radio', { name: 'Remove Global Administrator' }).focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.getByRole('radio', { name: 'Set auto-extend' }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.type(ids[0]);
    await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowDown');
    expect(await page.getByRole('radio', { name: 'Off' }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Set auto-extend job' }).waitFor();
    await page.getByText('1 item: 1 succeeded, 0 failed, 0 pending.', { exact: true }).waitFor();
    expect((await fleet.relationship(partner.token, ids[0])).autoExtendDuration).toBe('PT0S');

    await allJobs();
    await startJob('Terminate relationships', ids[1]);
    await page
      .getByRole('dialog', { name: 'Terminate relationships?' })
      .getByRole('button', { name: 'Terminate' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Terminate relationships job' }).waitFor();
    await page.getByText('1 item: 1 succeeded, 0 failed, 0 pending.', { exact: true }).waitFor();
    expect((await fleet.relationship(partner.token, ids[1])).status).toBe('terminated');

    // Remove DAP where no GDAP covers it fails with the reason; once covered, a retry succeeds.
    const uncovered = await customerAdmin(bed.client, 'Tailspin Toys');
    await importDap(partner, uncovered);
    await allJobs();
    await startJob('Remove DAP', uncovered.tenantId);
    await page.getByRole('heading', { level: 1, name: 'Remove DAP job' }).waitFor();
    await page.getByText('1 item: 0 succeeded, 1 failed, 0 pending.', { exact: true }).waitFor();
    const items = page.getByRole('table', { name: 'Items' }).locator('tbody tr');
    await items.getByText('Failed', { exact: true }).waitFor();
    const template = await fleet.template(partner.token, [randomUUID()]);
    await fleet.settledJob(partner.token, await fleet.assign(partner.token, template.id, [uncovered.tenantId]));
    await page.getByRole('button', { name: 'Retry failed items' }).click();
    await page.getByText('1 item: 1 succeeded, 0 failed, 0 pending.', { exact: true }).waitFor();
    await items.locator('td:nth-child(4)').getByText('2', { exact: true }).waitFor();
    const daps = await api<{ value: Json[] }>('GET', '/v1/dapRelationships', partner.token);
    expect(daps.value.map((dap) => dap.customerTenantId)).not.toContain(uncovered.tenantId);

    await allJobs();
    const rows = page.getByRole('table', { name: 'Jobs, newest first' }).locator('tbody tr');
    await rows.nth(1).getByText('Remove DAP').waitFor();
    expect(await rows.locator('td:first-child > a').allInnerTexts()).toEqual([
      'Assign template',
      'Remove DAP',
      'Terminate relationships',
      'Set auto-extend',
      'Remove Global Administrator',
    ]);
    expect(await rows.locator('td:nth-child(2)').allInnerTexts()).toEqual(Array(5).fill('Succeeded'));
  });
});
