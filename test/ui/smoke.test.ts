import { Client, startTestHost, TestHost } from '../e2e/support';
import { launchBrowser, signIn, TestBrowser } from './browser';

describe('smoke', () => {
  let host: TestHost;
  let client: Client;
  let browser: TestBrowser;
  beforeAll(async () => {
    host = await startTestHost();
    client = new Client(host.url);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  it('renders', async () => {
    const { partner, customer, customerTenantId, partnerTenantId } = await client.tenants();
    await client.activeRelationship(partner, customer, customerTenantId);
    await client.createRelationship(partner);
    const { page, errors } = await browser.open();
    await page.goto(`${host.url}/`);
    await signIn(page, { tenantId: partnerTenantId, as: 'Partner Admin Agent' });
    await page.getByRole('heading', { name: 'Relationships', level: 1 }).waitFor();
    await page.locator('tbody tr').first().waitFor();
    await page.getByRole('link', { name: 'Expiring granular relationships' }).click();
    await page.getByRole('heading', { name: 'Expiring granular relationships', level: 1 }).waitFor();
    expect(errors).toEqual([]);
  });
});
