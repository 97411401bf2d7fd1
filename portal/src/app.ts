import { html, LitElement, nothing, TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import { currentPath, navigate, onNavigate } from './router';
import { onSessionChange, session, signOut } from './session';
import { settings } from './settings';
import './pages/signIn';
import './pages/relationships';
import './pages/relationshipDetails';
import './pages/expiring';
import './pages/invitation';
import './pages/customerRelationships';
import './pages/support';
import './pages/templates';
import './pages/templateDetails';
import './pages/jobs';
import './pages/jobDetails';
import './pages/webhooks';

interface Route {
  pattern: RegExp;
  title: string;
  /** The sign-in page's hint when someone opens this page signed out. */
  signInHint?: { text: string; preset: string };
  render: (params: string[]) => TemplateResult;
}

const routes: Route[] = [
  {
    pattern: /^\/portal\/relationships$/,
    title: 'Relationships',
    render: () => html`<relationships-page></relationships-page>`,
  },
  {
    pattern: /^\/portal\/relationships\/([^/]+)$/,
    title: 'Relationship',
    render: ([id]) => html`<relationship-page .relationshipId=${id}></relationship-page>`,
  },
  {
    pattern: /^\/portal\/expiring$/,
    title: 'Expiring granular relationships',
    render: () => html`<expiring-page></expiring-page>`,
  },
  {
    pattern: /^\/portal\/templates$/,
    title: 'GDAP templates',
    render: () => html`<templates-page></templates-page>`,
  },
  {
    pattern: /^\/portal\/templates\/new$/,
    title: 'New GDAP template',
    render: () => html`<new-template-page></new-template-page>`,
  },
  {
    pattern: /^\/portal\/templates\/([^/]+)$/,
    title: 'GDAP template',
    render: ([id]) => html`<template-page .templateId=${id}></template-page>`,
  },
  {
    pattern: /^\/portal\/jobs$/,
    title: 'Jobs',
    render: () => html`<jobs-page></jobs-page>`,
  },
  {
    pattern: /^\/portal\/jobs\/new$/,
    title: 'New job',
    render: () => html`<new-job-page></new-job-page>`,
  },
  {
    pattern: /^\/portal\/jobs\/([^/]+)$/,
    title: 'Job',
    render: ([id]) => html`<job-page .jobId=${id}></job-page>`,
  },
  {
    pattern: /^\/portal\/webhooks$/,
    title: 'Webhooks',
    render: () => html`<webhooks-page></webhooks-page>`,
  },
  {
    pattern: /^\/portal\/invitations\/([^/]+)$/,
    title: 'Invitation',
    signInHint: {
      text: "A partner invited your organization to a GDAP relationship. Sign in as your organization's Global Administrator (or Delegated Admin Relationship Administrator) to review it.",
      preset: 'customerGlobalAdministrator',
    },
    render: ([id]) => html`<invitation-page .relationshipId=${id}></invitation-page>`,
  },
  {
    pattern: /^\/portal\/customer\/relationships$/,
    title: 'Partner relationships',
    render: () => html`<customer-relationships-page></customer-relationships-page>`,
  },
  {
    pattern: /^\/portal\/support$/,
    title: 'Microsoft Support access requests',
    render: () => html`<support-page></support-page>`,
  },
];

/** The navigation, by who uses it. */
const navigation: { heading: string; links: { href: string; label: string }[] }[] = [
  {
    heading: 'Partner',
    links: [
      { href: '/portal/relationships', label: 'Relationships' },
      { href: '/portal/expiring', label: 'Expiring granular relationships' },
      { href: '/portal/templates', label: 'GDAP templates' },
      { href: '/portal/jobs', label: 'Jobs' },
      { href: '/portal/webhooks', label: 'Webhooks' },
    ],
  },
  { heading: 'Customer', links: [{ href: '/portal/customer/relationships', label: 'Partner relationships' }] },
  { heading: 'Support', links: [{ href: '/portal/support', label: 'Microsoft Support access requests' }] },
];

@customElement('portal-app')
export class PortalApp extends LitElement {
  @state() private path = currentPath();

  protected createRenderRoot(): HTMLElement {
    return this;
  }

  connectedCallback(): void {
    super.connectedCallback();
    onNavigate(() => {
      this.path = currentPath();
      void this.focusHeading();
    });
    onSessionChange(() => this.requestUpdate());
  }

  /** After a page change, focus moves to its heading, so keyboard and screen reader users start there. */
  private async focusHeading(): Promise<void> {
    await this.updateComplete;
    const page = this.querySelector('main > *') as LitElement | null;
    await page?.updateComplete;
    (this.querySelector('main h1') as HTMLElement | null)?.focus();
  }

  private renderTopBar(): TemplateResult {
    const signedIn = session();
    return html`<header class="top-bar">
      <a class="product" href="/portal/">GDAP and Support access</a>
      ${settings().sandbox ? html`<span class="badge-sandbox">Sandbox</span>` : nothing}
      ${
        signedIn
          ? html`<div class="who">
              <span
                >${signedIn.label}${signedIn.claims.email ? ` · ${signedIn.claims.email}` : ''} · tenant
                <span class="mono">${signedIn.claims.tid}</span></span
              >
              <button type="button" @click=${() => this.signOut()}>Sign out</button>
            </div>`
          : nothing
      }
    </header>`;
  }

  private signOut(): void {
    signOut();
    navigate('/portal/');
  }

  private renderNavigation(): TemplateResult {
    return html`<nav class="side" aria-label="Portal">
      ${navigation.map(
        (section) =>
          html`<h2>${section.heading}</h2>
            <ul>
              ${section.links.map(
                (link) =>
                  html`<li>
                    <a href=${link.href} aria-current=${this.path.startsWith(link.href) ? 'page' : nothing}
                      >${link.label}</a
                    >
                  </li>`,
              )}
            </ul>`,
      )}
    </nav>`;
  }

  private renderPage(): TemplateResult | ReturnType<typeof keyed> {
    const signedIn = session();
    const route = routes.find((candidate) => candidate.pattern.test(this.path));
    if (!route && this.path !== '/portal') {
      document.title = 'Page not found · GDAP portal';
      return html`<section>
        <h1 tabindex="-1">Page not found</h1>
        <p>There is no portal page at ${this.path}. <a href="/portal/">Go to the start page</a>.</p>
      </section>`;
    }
    if (!signedIn) {
      document.title = 'Sign in · GDAP portal';
      return html`<sign-in-page
        .hint=${route?.signInHint?.text}
        .suggestedPreset=${route?.signInHint?.preset}
      ></sign-in-page>`;
    }
    if (!route) {
      // The start page is where this person usually works.
      queueMicrotask(() =>
        navigate(signedIn.home === '/portal/' ? '/portal/relationships' : signedIn.home, { replace: true }),
      );
      return html``;
    }
    document.title = `${route.title} · GDAP portal`;
    const match = route.pattern.exec(this.path) as RegExpExecArray;
    // A new element per address, so a page moving to another of its kind (job to job) starts afresh.
    return keyed(this.path, route.render(match.slice(1).map(decodeURIComponent)));
  }

  render(): TemplateResult {
    const signedIn = session();
    return html`<a class="skip-link" href="#main">Skip to content</a>
      ${this.renderTopBar()}
      <div class="layout">
        ${signedIn ? this.renderNavigation() : nothing}
        <main id="main">${this.renderPage()}</main>
      </div>`;
  }
}
