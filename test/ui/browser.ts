import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BrowserContext, chromium, ConsoleMessage, Page } from 'playwright-core';
import { Client, startTestHost, TestHost, TestHostOptions } from '../e2e/support';

/**
 * The browser the UI tests drive: Debian's Chromium through playwright-core (no browser download).
 * Without one the tests fail, saying how to get it, rather than skipping.
 */
const candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/snap/bin/chromium'];

export function chromiumPath(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH is ${configured}, which does not exist.`);
    return configured;
  }
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error('No Chromium for the UI tests: install it with `apt-get install chromium` (or set CHROMIUM_PATH).');
  }
  return found;
}

export interface PortalPage {
  page: Page;
  /** Console errors and uncaught exceptions seen on the page: each test ends by expecting none. */
  errors: string[];
  /**
   * Chromium logs every API answer of 400 or more as a console error ("Failed to load resource").
   * A test that walks a refusal the page must show says which answer it expects, and only that
   * one is let through.
   */
  expectFailure(url: RegExp, status: number): void;
}

export interface TestBrowser {
  context: BrowserContext;
  /** A new tab whose console errors are collected. */
  open(): Promise<PortalPage>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'portal-ui-'));
  // A persistent context is how Playwright starts Chromium on a fresh --user-data-dir of our own.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 860 },
  });
  return {
    context,
    open: async () => {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const errors: string[] = [];
      const expected: { url: RegExp; status: number }[] = [];
      page.on('console', (message: ConsoleMessage) => {
        if (message.type() !== 'error') return;
        const failedLoad = /^Failed to load resource: the server responded with a status of (\d+)/.exec(message.text());
        const url = message.location().url;
        if (failedLoad && expected.some((item) => item.url.test(url) && item.status === Number(failedLoad[1]))) return;
        errors.push(`console: ${message.text()}${failedLoad ? ` (${url})` : ''}`);
      });
      page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
      return { page, errors, expectFailure: (url, status) => expected.push({ url, status }) };
    },
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface SignIn {
  tenantId: string;
  /** The picker's label, e.g. "Partner Admin Agent". */
  as: string;
  email?: string;
}

/** Signs in through the sandbox picker on whatever page asked for it, and waits for that page. */
export async function signIn(page: Page, who: SignIn): Promise<void> {
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await page.getByLabel('Tenant id').fill(who.tenantId);
  if (who.email) await page.getByLabel('E-mail (optional)').fill(who.email);
  await page.getByLabel('Sign in as').selectOption({ label: who.as });
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Waits for the page's status text (role=status) or error text (role=alert) to say `text`. */
export async function statusSays(page: Page, text: string | RegExp): Promise<void> {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor();
}

export async function alertSays(page: Page, text: string | RegExp): Promise<void> {
  await page.getByRole('alert').filter({ hasText: text }).first().waitFor();
}

export interface Testbed {
  host: TestHost;
  client: Client;
  browser: TestBrowser;
  /** A new tab, closed after the test, which then fails on any console error the tab logged. */
  open(): Promise<PortalPage>;
  /** A new tab on `path`, signed in through the picker, on the page `path` names. */
  openAs(who: SignIn, path: string): Promise<PortalPage>;
}

/**
 * One local host and one Chromium for a test file (registered as its beforeAll/afterEach/afterAll);
 * `options.runQueues` for pages whose work runs on queues (jobs, webhook deliveries).
 */
export function useTestbed(options: TestHostOptions = {}): Testbed {
  const tabs: PortalPage[] = [];
  const bed = {} as Testbed;
  beforeAll(async () => {
    bed.host = await startTestHost(options);
    bed.client = new Client(bed.host.url);
    bed.browser = await launchBrowser();
  });
  afterEach(async () => {
    const errors = tabs.flatMap((tab) => tab.errors);
    await Promise.all(tabs.splice(0).map((tab) => tab.page.close()));
    expect(errors).toEqual([]);
  });
  afterAll(async () => {
    await bed.browser?.close();
    await bed.host?.close();
  });
  bed.open = async () => {
    const tab = await bed.browser.open();
    tabs.push(tab);
    return tab;
  };
  bed.openAs = async (who, path) => {
    const tab = await bed.open();
    await tab.page.goto(`${bed.host.url}${path}`);
    await signIn(tab.page, who);
    return tab;
  };
  return bed;
}
