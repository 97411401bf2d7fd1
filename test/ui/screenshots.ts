import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Fleet, Json } from '../e2e/fleet';
import { expectOk, relationshipsUrl, roles } from '../e2e/support';
import { useTestbed } from './browser';
import { customerAdmin, inParallel, partnerAgent, seedRelationship } from './seed';

/**
 * The README's screenshots of each page (docs/screenshots/*.png), made from demonstration data
 * through the API: `npm run screenshots`. Not part of `npm test` (it writes into docs/).
 */
const out = path.join(__dirname, '..', '..', 'docs', 'screenshots');
// The failed delivery the webhooks page shows runs its ten attempts in a moment.
process.env.WEBHOOK_RETRY_SECONDS = '0.01';
process.env.WEBHOOK_RETRY_MAX_SECONDS = '0.05';

describe('portal screenshots', () => {
  const bed = useTestbed({ runQueues: true });

  it('captures every page', async () => {
    mkdirSync(out, { recursive: true });
    const { client } = bed;
    const partner = await partnerAgent(client, 'Northwind Partners');
    const customers = await Promise.all(
      ['Fabrikam Ltd', 'Contoso Pharma', 'Tailspin Toys', 'Adatum Corporation', 'Litware Inc'].map((name) =>
        customerAdmin(client, name),
      ),
    );
    const [fabrikam, contoso, tailspin, adatum, litware] = customers;
    const seeds = [
      {
        customer: fabrikam,
        displayName: 'Fabrikam Exchange and Intune',
        duration: 'P12D',
        roleIds: [roles.exchangeAdministrator, roles.intuneAdministrator],
      },
      {
        customer: fabrikam,
        displayName: 'Fabrikam full admin',
        duration: 'P20D',
        roleIds: [roles.globalAdministrator, roles.exchangeAdministrator],
      },
      {
        customer: contoso,
        displayName: 'Contoso helpdesk',
        duration: 'P33D',
        roleIds: ['729827e3-9c14-49f7-bb1b-9608f156bbb8'],
      },
      {
        customer: contoso,
        displayName: 'Contoso security',
        duration: 'P41D',
        roleIds: ['194ae4cb-b126-40b2-bd5b-6091b380977d'],
      },
      { customer: tailspin, displayName: 'Tailspin mailboxes', duration: 'P55D', autoExtendDuration: 'P180D' },
      { customer: tailspin, displayName: 'Tailspin devices', duration: 'P62D', roleIds: [roles.intuneAdministrator] },
      { customer: adatum, displayName: 'Adatum readers', duration: 'P75D', roleIds: [roles.globalReader] },
      {
        customer: litware,
        displayName: 'Litware licensing',
        duration: 'P84D',
        roleIds: ['4d6ac14f-3453-41d0-bef9-a3e0c569773a'],
      },
      { customer: adatum, displayName: 'Adatum two-year', duration: 'P730D' },
    ];
    const active = await inParallel(seeds, 3, ({ customer, ...seed }) =>
      seedRelationship(client, partner, customer, { ...seed, active: true }),
    );
    await seedRelationship(client, partner, litware, { displayName: 'Litware onboarding', pending: true });
    await seedRelationship(client, partner, contoso, { displayName: 'Contoso draft' });
    const invitation = await seedRelationship(client, partner, fabrikam, {
      displayName: 'Fabrikam migration',
      duration: 'P90D',
      roleIds: [roles.globalAdministrator, roles.exchangeAdministrator, '9360feb5-f418-4baa-8175-e2a00bac4301'],
      pending: true,
    });
    expectOk(
      await client.call('POST', `${relationshipsUrl}/${String(active[0].id)}/accessAssignments`, {
        token: partner.token,
        body: {
          accessContainer: { accessContainerId: randomUUID(), accessContainerType: 'securityGroup' },
          accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
        },
      }),
      201,
    );

    const shoot = async (name: string, page: import('playwright-core').Page) => {
      await page.waitForTimeout(300);
      const file = path.join(out, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      // Debian's pngquant (apt-get install pngquant), where present, makes them a third of the size.
      if (existsSync('/usr/bin/pngquant'))
        execFileSync('/usr/bin/pngquant', ['--force', '--skip-if-larger', '--output', file, file]);
    };

    const signInTab = await bed.open();
    await signInTab.page.goto(`${bed.host.url}/portal/`);
    await signInTab.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shoot('sign-in', signInTab.page);

    const { page } = await bed.openAs(
      { tenantId: partner.tenantId, as: 'Partner Admin Agent' },
      '/portal/relationships',
    );
    await page.getByRole('link', { name: 'Adatum two-year' }).waitFor();
    await shoot('relationships', page);
    await page.getByRole('link', { name: 'Fabrikam Exchange and Intune' }).click();
    await page.getByRole('heading', { level: 1, name: 'Fabrikam Exchange and Intune' }).waitFor();
    await page.getByRole('cell', { name: 'Intune Administrator', exact: true }).first().waitFor();
    await shoot('relationship', page);
    await page.getByRole('link', { name: 'Expiring granular relationships' }).click();
    await page.getByRole('radio', { name: '90 days' }).check();
    await page.getByRole('checkbox', { name: 'Include auto-extending' }).check();
    await page.getByRole('checkbox', { name: 'Select Contoso helpdesk' }).check();
    await page.getByRole('checkbox', { name: 'Select Contoso security' }).check();
    await shoot('expiring', page);

    // Templates and jobs: three customers assigned (Contoso has DAP, so it is onboarded at once), one
    // of its groups removed by hand so the drift shows.
    const fleet = new Fleet(client);
    await fleet.importDap(partner.tenantId, contoso.tenantId);
    const template = await fleet.template(partner.token, [randomUUID(), randomUUID()], {
      displayName: 'Helpdesk tier 1',
      description: 'Mailboxes and devices for the first line',
    });
    const assigned = await fleet.settledJob(
      partner.token,
      await fleet.assign(partner.token, template.id, [contoso.tenantId, tailspin.tenantId, adatum.tenantId]),
    );
    const onboarded = String(assigned.items[0].relationshipId);
    const groups = await client.call<{ value: Json[] }>('GET', `${relationshipsUrl}/${onboarded}/accessAssignments`, {
      token: partner.token,
    });
    expectOk(
      await client.call(
        'DELETE',
        `${relationshipsUrl}/${onboarded}/accessAssignments/${String(groups.body.value[1].id)}`,
        {
          token: partner.token,
          headers: { 'if-match': '*' },
        },
      ),
      204,
    );
    await page.getByRole('link', { name: 'GDAP templates' }).click();
    await page.getByRole('link', { name: 'Helpdesk tier 1' }).waitFor();
    await shoot('templates', page);
    await page.getByRole('link', { name: 'Helpdesk tier 1' }).click();
    await page.getByText('Missing group').waitFor();
    await page.getByRole('cell', { name: /^Tailspin Toys/ }).waitFor();
    await shoot('template', page);
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByRole('link', { name: 'Assign template' }).waitFor();
    await shoot('jobs', page);
    await page.getByRole('link', { name: 'Assign template' }).click();
    await page.getByText('3 items: 1 succeeded, 0 failed, 2 pending.', { exact: true }).waitFor();
    await page.getByRole('table', { name: 'Items' }).getByText('Tailspin Toys').waitFor();
    await shoot('job', page);
    await page.getByRole('link', { name: 'GDAP templates' }).click();
    await page.getByRole('link', { name: 'New template' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Security operations');
    const group = page.getByRole('group', { name: 'Group 1', exact: true });
    await group.getByLabel('Security group id').fill(randomUUID());
    await group.getByLabel('Find a role').fill('security');
    await group.getByRole('checkbox', { name: 'Security Reader', exact: true }).check();
    await group.getByRole('checkbox', { name: 'Security Operator', exact: true }).check();
    await shoot('template-new', page);

    // Webhooks: a registration and a test event that failed every attempt (nothing listens on port
    // 9), so it is listed with the failed deliveries too.
    expectOk(
      await client.call('POST', '/webhooks/v1/registration', {
        token: partner.token,
        body: {
          WebhookUrl: 'http://127.0.0.1:9/partner-events',
          WebhookEvents: [
            'test-created',
            'granular-admin-relationship-approved',
            'granular-admin-relationship-expiring',
          ],
        },
      }),
      200,
    );
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await page
      .getByRole('table', { name: 'Test events sent from this tab' })
      .getByRole('cell', { name: 'Failed', exact: true })
      .waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Refresh deliveries' }).click();
    await page.getByRole('table', { name: 'Deliveries: failed' }).getByText('test-created').waitFor();
    await shoot('webhooks', page);

    const customerTab = await bed.open();
    await customerTab.page.goto(`${bed.host.url}/portal/invitations/${String(invitation.id)}`);
    const { signIn } = await import('./browser');
    await signIn(customerTab.page, { tenantId: fabrikam.tenantId, as: 'Customer Global Administrator' });
    await customerTab.page.getByRole('heading', { name: 'Invitation from Northwind Partners' }).waitFor();
    await shoot('invitation', customerTab.page);
    await customerTab.page.getByRole('link', { name: 'Partner relationships' }).click();
    await customerTab.page.getByRole('button', { name: 'Roles of Fabrikam Exchange and Intune' }).click();
    await shoot('customer-relationships', customerTab.page);

    // Support: a request approved yesterday (its approval lives in the subsidiary), and one waiting.
    const [headOffice, subsidiary, lab] = [randomUUID(), randomUUID(), randomUUID()];
    const email = 'megan@contoso.example';
    const engineerId = randomUUID();
    expectOk(
      await client.call('PUT', `/sandbox/supportEngineers/${engineerId}`, {
        body: { displayName: 'Avery Brooks (Microsoft Support)', expertise: ['Identity'] },
      }),
      201,
    );
    const engineer = await client.token({
      tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      oid: engineerId,
      roles: ['SupportEngineer'],
    });
    const adminOf = (tid: string) => client.token({ tid, wids: ['f023fd81-a637-4b56-95fd-791ac0226033'], email });
    const askFor = async (title: string, resourceTenantId: string, justification: string) => {
      const filed = expectOk(
        await client.call('POST', '/v1.0/support/requests', {
          token: await adminOf(headOffice),
          body: {
            title,
            description: 'Since Monday.',
            category: 'Identity',
            resourceTenantId,
            allowAdvancedDiagnostics: false,
          },
        }),
        201,
      );
      return expectOk(
        await client.call('POST', '/v1.0/support/accessRequests', {
          token: engineer,
          body: { supportRequestId: filed.body.id, resourceTenantId, justification },
        }),
        201,
      ).body;
    };
    const approved = await askFor(
      'Guests of the subsidiary cannot sign in',
      subsidiary,
      'Read the sign-in logs of the subsidiary',
    );
    expectOk(
      await client.call('POST', `/v1.0/support/accessRequests/${String(approved.id)}/approve`, {
        token: await adminOf(headOffice),
        headers: { 'x-resource-tenant-authorization': `Bearer ${await adminOf(subsidiary)}` },
      }),
      200,
    );
    await askFor('Lab devices fail to register', lab, 'Compare the device registration policies');
    const support = await bed.openAs(
      { tenantId: headOffice, as: 'Tenant Service Support Administrator', email },
      '/portal/support',
    );
    await support.page
      .getByRole('button', { name: 'Approve the request of Avery Brooks (Microsoft Support)' })
      .waitFor();
    await shoot('support', support.page);
    const resource = await bed.openAs(
      { tenantId: subsidiary, as: 'Tenant Service Support Administrator', email },
      '/portal/support',
    );
    await resource.page.getByRole('button', { name: 'Remove access of Avery Brooks (Microsoft Support)' }).waitFor();
    await shoot('support-resource-tenant', resource.page);
  }, 120_000);
});
