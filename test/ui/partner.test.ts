import { randomUUID } from 'node:crypto';
import { expectOk, relationshipsUrl, roles } from '../e2e/support';
import { alertSays, PortalPage, signIn, statusSays, useTestbed } from './browser';
import { Body, customerAdmin, inParallel, partnerAgent, Party, readRelationship, seedRelationship } from './seed';

/**
 * The partner's pages in a real browser (SPEC §17): relationships with filter, search and paging,
 * a relationship's details, and "Expiring granular relationships". Each effect is confirmed
 * through the API, and no page may log a console error.
 */
describe('partner pages', () => {
  const bed = useTestbed();

  const openAs = (partner: Party, as: string, path: string): Promise<PortalPage> =>
    bed.openAs({ tenantId: partner.tenantId, as }, path);

  const bodyRows = (page: PortalPage['page'], table: string | RegExp) =>
    page.getByRole('table', { name: table }).locator('tbody tr');

  it('lists relationships 50 to a page, following nextLink, filtered by status and searched by name in any case', async () => {
    const partner = await partnerAgent(bed.client, 'Northwind Partners');
    const fabrikam = await customerAdmin(bed.client, 'Fabrikam Ltd');
    const contoso = await customerAdmin(bed.client, 'Contoso Pharma');
    await inParallel([...Array(40).keys()], 8, (n) =>
      seedRelationship(bed.client, partner, contoso, { displayName: `Draft ${String(n).padStart(2, '0')}` }),
    );
    await inParallel([...Array(15).keys()], 5, (n) =>
      seedRelationship(bed.client, partner, fabrikam, {
        displayName: `Mailbox care ${String(n).padStart(2, '0')}`,
        active: true,
      }),
    );

    const { page } = await openAs(partner, 'Partner Admin Agent', '/portal/relationships');
    await page.getByText('Page 1 · rows 1–50', { exact: true }).waitFor();
    expect(await bodyRows(page, 'Relationships').count()).toBe(50);
    for (const header of ['Name', 'Customer', 'Status', 'Roles', 'End date', 'Auto-extend']) {
      await page.getByRole('columnheader', { name: header, exact: true }).waitFor();
    }

    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2 · rows 51–55', { exact: true }).waitFor();
    expect(await bodyRows(page, 'Relationships').count()).toBe(5);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1 · rows 1–50', { exact: true }).waitFor();

    await page.getByLabel('Status').selectOption({ label: 'Active' });
    await page.getByText('Page 1 · rows 1–15', { exact: true }).waitFor();
    const statuses = await bodyRows(page, 'Relationships').locator('td:nth-child(3)').allInnerTexts();
    expect(new Set(statuses)).toEqual(new Set(['Active']));
    const activeByApi = expectOk(
      await bed.client.call<{ value: Body[] }>('GET', `${relationshipsUrl}?$filter=status eq 'active'`, {
        token: partner.token,
      }),
      200,
    );
    expect(activeByApi.body.value).toHaveLength(statuses.length);

    // Part of a relationship's name, in another case, among active ones.
    await page.getByLabel('Search').fill('BOX CARE 1');
    await page.getByRole('table', { name: '5 relationships matching “BOX CARE 1”' }).waitFor();
    expect(
      await bodyRows(page, /matching/)
        .locator('td:first-child')
        .allInnerTexts(),
    ).toEqual(expect.arrayContaining(['Mailbox care 10', 'Mailbox care 14']));
    // Part of a customer's name, over every status and across pages.
    await page.getByLabel('Status').selectOption({ label: 'All statuses' });
    await page.getByLabel('Search').fill('pharma');
    await page.getByRole('table', { name: '40 relationships matching “pharma”' }).waitFor();
    expect(await bodyRows(page, /matching/).count()).toBe(40);
    expect(
      new Set(
        await bodyRows(page, /matching/)
          .locator('td:nth-child(2)')
          .allInnerTexts(),
      ),
    ).toEqual(new Set(['Contoso Pharma']));
  });

  it("shows a relationship's roles, assignments, requests and audit entries", async () => {
    const partner = await partnerAgent(bed.client, 'Northwind Partners');
    const customer = await customerAdmin(bed.client, 'Fabrikam Ltd');
    const relationship = await seedRelationship(bed.client, partner, customer, {
      displayName: 'Exchange and Intune',
      roleIds: [roles.exchangeAdministrator, roles.intuneAdministrator],
      active: true,
    });
    const group = randomUUID();
    expectOk(
      await bed.client.call('POST', `${relationshipsUrl}/${String(relationship.id)}/accessAssignments`, {
        token: partner.token,
        body: {
          accessContainer: { accessContainerId: group, accessContainerType: 'securityGroup' },
          accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
        },
      }),
      201,
    );

    const { page } = await openAs(partner, 'Partner Admin Agent', '/portal/relationships');
    await page.getByRole('link', { name: 'Exchange and Intune' }).click();
    await page.getByRole('heading', { level: 1, name: 'Exchange and Intune' }).waitFor();
    expect(page.url()).toBe(`${bed.host.url}/portal/relationships/${String(relationship.id)}`);
    await page.getByRole('cell', { name: 'Exchange Administrator', exact: true }).first().waitFor();
    await page.getByRole('cell', { name: 'Intune Administrator', exact: true }).waitFor();
    await page.getByRole('cell', { name: group }).waitFor();
    await page.getByRole('cell', { name: 'Lock for approval' }).waitFor();
    await page.getByRole('cell', { name: 'Approve', exact: true }).waitFor();
    const audit = page.getByRole('heading', { name: 'Audit entries' });
    await audit.waitFor();
    await page.locator('h2:text("Audit entries") + div tbody tr td:first-child').first().waitFor();
    const activities = await page.locator('h2:text("Audit entries") + div tbody tr td:first-child').allInnerTexts();
    expect(activities.length).toBeGreaterThanOrEqual(2);
  });

  describe('Expiring granular relationships', () => {
    let partner: Party;
    let customer: Party;
    const seeded: Record<string, Body> = {};

    beforeAll(async () => {
      partner = await partnerAgent(bed.client, 'Northwind Partners');
      customer = await customerAdmin(bed.client, 'Fabrikam Ltd');
      const seeds = [
        { displayName: 'Ends in 20 days', duration: 'P20D' },
        { displayName: 'Ends in 45 days', duration: 'P45D' },
        { displayName: 'Ends in 80 days', duration: 'P80D' },
        { displayName: 'Ends in 200 days', duration: 'P200D' },
        { displayName: 'Extends in 25 days', duration: 'P25D', autoExtendDuration: 'P180D' },
        {
          displayName: 'Global admin in 10 days',
          duration: 'P10D',
          roleIds: [roles.globalAdministrator, roles.exchangeAdministrator],
        },
      ];
      for (const seed of seeds)
        seeded[seed.displayName] = await seedRelationship(bed.client, partner, customer, { ...seed, active: true });
    });

    const autoExtendOf = async (name: string) =>
      (await readRelationship(bed.client, partner.token, String(seeded[name].id))).autoExtendDuration;

    it('shows the 30, 60 or 90 days that will not auto-extend, adds the auto-extending on request, and charts them', async () => {
      const { page } = await openAs(partner, 'Partner Admin Agent', '/portal/expiring');
      const names = () =>
        bodyRows(page, /ending within/)
          .locator('td:nth-child(2)')
          .allInnerTexts();
      await page
        .getByRole('table', { name: '2 relationships ending within 30 days that will not auto-extend' })
        .waitFor();
      expect(await names()).toEqual(['Global admin in 10 days', 'Ends in 20 days']);

      await page.getByRole('radio', { name: '60 days' }).check();
      await page.getByRole('table', { name: /3 relationships ending within 60 days/ }).waitFor();
      await page.getByRole('radio', { name: '90 days' }).check();
      await page.getByRole('table', { name: /4 relationships ending within 90 days/ }).waitFor();
      expect(await names()).not.toContain('Ends in 200 days');

      await page.getByRole('checkbox', { name: 'Include auto-extending' }).check();
      await page.getByRole('table', { name: '5 relationships ending within 90 days' }).waitFor();
      expect(await names()).toContain('Extends in 25 days');

      const chart = page.getByRole('img', { name: /Relationships ending per week, next 90 days/ });
      await chart.waitFor();
      expect(await chart.getAttribute('aria-labelledby')).toBe('chart-caption chart-summary');
      await page.getByText('5 relationships end in the next 90 days').waitFor();
      await page.getByText('Show the numbers as a table').click();
      const weeks = page.locator('figure.chart tbody tr');
      expect(await weeks.count()).toBe(13);

      // The Global Administrator row says why it cannot auto-extend.
      const gaRow = page.getByRole('row', { name: /Global admin in 10 days/ });
      await gaRow.getByText('Includes Global Administrator, so it cannot auto-extend.').waitFor();
    });

    it('enables and disables auto-extend on the selected relationships, and reports a refusal per relationship', async () => {
      const { page } = await openAs(partner, 'Partner Admin Agent', '/portal/expiring');
      await page.getByRole('radio', { name: '90 days' }).check();
      await page.getByRole('checkbox', { name: 'Select Ends in 45 days' }).check();
      await page.getByRole('checkbox', { name: 'Select Ends in 80 days' }).check();
      await page.getByText('2 relationships selected').waitFor();
      await page.getByRole('button', { name: 'Enable auto-extend' }).click();
      await statusSays(page, 'Auto-extend enabled on 2 relationships.');
      expect(await autoExtendOf('Ends in 45 days')).toBe('P180D');
      expect(await autoExtendOf('Ends in 80 days')).toBe('P180D');
      // They now auto-extend, so they leave the list until "Include auto-extending" is on.
      await page.getByRole('table', { name: /2 relationships ending within 90 days/ }).waitFor();

      await page.getByRole('checkbox', { name: 'Include auto-extending' }).check();
      await page.getByRole('checkbox', { name: 'Select Ends in 45 days' }).check();
      await page.getByRole('button', { name: 'Disable auto-extend' }).click();
      await statusSays(page, 'Auto-extend disabled on 1 relationship.');
      expect(await autoExtendOf('Ends in 45 days')).toBe('PT0S');
      expect(await autoExtendOf('Ends in 80 days')).toBe('P180D');

      // Global Administrator: the API refuses, and the page says so for that relationship.
      await page.getByRole('checkbox', { name: 'Select Global admin in 10 days' }).check();
      await page.getByRole('button', { name: 'Enable auto-extend' }).click();
      await alertSays(page, 'Auto-extend enabled on 0 relationships; 1 failed.');
      await alertSays(page, /Global admin in 10 days: .*Global Administrator/);
      expect(await autoExtendOf('Global admin in 10 days')).toBe('PT0S');
    });

    it('removes Global Administrator after asking, so the relationship can auto-extend', async () => {
      const { page } = await openAs(partner, 'Partner Admin Agent', '/portal/expiring');
      await page.getByRole('button', { name: 'Remove Global Administrator from Global admin in 10 days' }).click();
      const dialog = page.getByRole('dialog', { name: 'Remove Global Administrator?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Remove Global Administrator' }).click();
      await statusSays(page, 'Global Administrator removed from Global admin in 10 days.');
      const after = await readRelationship(bed.client, partner.token, String(seeded['Global admin in 10 days'].id));
      expect(after.accessDetails).toEqual({ unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] });
      expect(after.status).toBe('active');
      await page
        .getByRole('row', { name: /Global admin in 10 days/ })
        .getByText('Includes Global Administrator')
        .waitFor({ state: 'detached' });
    });

    it('switches auto-extend on for more than 25 relationships at once', async () => {
      const many = await partnerAgent(bed.client, 'Tailspin Partners');
      await inParallel([...Array(30).keys()], 5, (n) =>
        seedRelationship(bed.client, many, customer, {
          displayName: `Fleet ${String(n).padStart(2, '0')}`,
          duration: 'P14D',
          active: true,
        }),
      );
      const { page } = await openAs(many, 'Partner Admin Agent', '/portal/expiring');
      await page
        .getByRole('table', { name: '30 relationships ending within 30 days that will not auto-extend' })
        .waitFor();
      await page.getByRole('checkbox', { name: 'Select all on this page' }).check();
      await page.getByText('30 relationships selected').waitFor();
      await page.getByRole('button', { name: 'Enable auto-extend' }).click();
      await statusSays(page, 'Auto-extend enabled on 30 relationships.');
      const all = expectOk(
        await bed.client.call<{ value: Body[] }>('GET', `${relationshipsUrl}?$top=300`, { token: many.token }),
        200,
      );
      expect(all.body.value).toHaveLength(30);
      expect(new Set(all.body.value.map((item) => item.autoExtendDuration))).toEqual(new Set(['P180D']));
    });

    it('tells other roles that the page needs Global Administrator or Admin Agent', async () => {
      const tab = await bed.open();
      tab.expectFailure(/\/v1\.0\/analytics\/delegatedAdminRelationships$/, 403);
      const { page } = tab;
      await page.goto(`${bed.host.url}/portal/expiring`);
      await signIn(page, { tenantId: partner.tenantId, as: 'Partner Helpdesk Agent' });
      await alertSays(page, 'This page needs the Global Administrator or Admin Agent role in the partner tenant.');
      expect(await page.getByRole('button', { name: 'Enable auto-extend' }).count()).toBe(0);
    });
  });
});
