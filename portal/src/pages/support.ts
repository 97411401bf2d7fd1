import { html, nothing, TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { ApiError, call, errorMessage, getAll } from '../api';
import { Page } from '../components/page';
import { dataTable } from '../components/parts';
import { entraTokenForTenant } from '../entraSignIn';
import { formatDateTime, formatStatus, plural } from '../format';
import { defaultEmail, mintSandboxToken } from '../sandboxSignIn';
import { hasAppRole, session } from '../session';
import { settings } from '../settings';

interface EngineerRef {
  id: string;
  displayName: string;
}

interface AccessRequest {
  id: string;
  supportRequestId: string;
  supportRequestTenantId: string;
  resourceTenantId: string;
  justification: string;
  requestedBy: EngineerRef;
  status: string;
  createdDateTime: string;
  expirationDateTime: string;
  endDateTime: string | null;
}

interface Approval {
  id: string;
  supportRequestId: string;
  supportRequestTenantId: string;
  resourceTenantId: string;
  justification: string;
  engineer: EngineerRef;
  status: string;
  approvedBy: { userId: string; email: string };
  createdDateTime: string;
  endDateTime: string | null;
}

interface SupportRequest {
  id: string;
  title: string;
  status: string;
  tenantId: string;
  resourceTenantId?: string | null;
  createdDateTime: string;
}

interface HistoryItem {
  engineer: string;
  supportRequestId: string;
  tenant: string;
  justification: string;
  what: string;
  status: string;
  created: string;
  ended: string | null;
}

const paths = {
  requests: '/v1.0/support/requests',
  accessRequests: '/v1.0/support/accessRequests',
  approvals: '/v1.0/support/accessApprovals',
};

/**
 * "Microsoft Support access requests" (SPEC §8.3, §17, the seed's page): what support engineers
 * ask to read, approved by one administrator of both tenants (the second tenant's sign-in goes in
 * X-Resource-Tenant-Authorization), the access approved in this tenant with "Remove access",
 * and 30 days of history. A support engineer sees the requests assigned to them and asks here.
 */
@customElement('support-page')
export class SupportPage extends Page {
  @state() private accessRequests?: AccessRequest[];
  @state() private approvals?: Approval[];
  @state() private approvalsNote?: string;
  @state() private supportRequests = new Map<string, SupportRequest>();
  @state() private approving?: AccessRequest;
  @state() private assigned?: SupportRequest[];

  private get isEngineer(): boolean {
    const signedIn = session();
    return Boolean(signedIn && hasAppRole(signedIn.claims, 'SupportEngineer'));
  }

  connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    const problems: string[] = [];
    const [accessRequests, approvals, supportRequests] = await Promise.all([
      getAll<AccessRequest>(`${paths.accessRequests}?$top=300`).catch((error: unknown) => {
        problems.push(`Access requests: ${errorMessage(error)}`);
        return [] as AccessRequest[];
      }),
      this.isEngineer
        ? Promise.resolve(undefined)
        : getAll<Approval>(`${paths.approvals}?$top=300`).catch((error: unknown) => {
            if (error instanceof ApiError && error.status === 403) {
              this.approvalsNote = error.message;
              return undefined;
            }
            problems.push(`Approvals: ${errorMessage(error)}`);
            return [] as Approval[];
          }),
      getAll<SupportRequest>(`${paths.requests}?$top=300`).catch(() => [] as SupportRequest[]),
    ]);
    this.accessRequests = accessRequests;
    this.approvals = approvals;
    this.supportRequests = new Map(supportRequests.map((request) => [request.id, request]));
    if (this.isEngineer) this.assigned = supportRequests.filter((request) => request.status !== 'closed');
    if (problems.length) this.report('error', 'Some lists could not be read.', problems);
  }

  private supportRequestLabel(id: string): TemplateResult {
    const request = this.supportRequests.get(id);
    return html`${request ? request.title : 'Support request'} <span class="muted mono">${id}</span>`;
  }

  private async approve(accessRequest: AccessRequest, resourceTenantId?: string): Promise<void> {
    this.approving = undefined;
    await this.act({
      progress: 'Approving…',
      failure: 'The access request was not approved',
      run: async () => {
        const headers: Record<string, string> = {};
        if (resourceTenantId) {
          headers['x-resource-tenant-authorization'] = `Bearer ${await this.resourceTenantToken(resourceTenantId)}`;
        }
        await call('POST', `${paths.accessRequests}/${accessRequest.id}/approve`, { headers });
        return `Approved: ${accessRequest.requestedBy.displayName} may read the identity diagnostic data of tenant ${accessRequest.resourceTenantId}, read-only, while the support request is open.`;
      },
    });
    await this.load();
  }

  /** The same person's token from the resource tenant: minted in the sandbox, an Entra sign-in otherwise. */
  private async resourceTenantToken(tenantId: string): Promise<string> {
    const signedIn = session();
    if (!signedIn) throw new Error('You are signed out.');
    const email = signedIn.claims.email ?? defaultEmail;
    const { sandboxSignIn, entra } = settings();
    if (sandboxSignIn) {
      const person = {
        id: 'same-person',
        label: signedIn.label,
        roles: signedIn.claims.roles ?? [],
        wids: signedIn.claims.wids ?? [],
        home: '',
      };
      return mintSandboxToken(person, tenantId, email);
    }
    if (!entra) throw new Error('Sign-in to another tenant is not configured (PORTAL_CLIENT_ID).');
    return entraTokenForTenant(entra, tenantId, signedIn.claims.email);
  }

  private async reject(accessRequest: AccessRequest): Promise<void> {
    await this.act({
      progress: 'Rejecting…',
      failure: 'The access request was not rejected',
      run: async () => {
        await call('POST', `${paths.accessRequests}/${accessRequest.id}/reject`);
        return `Rejected: ${accessRequest.requestedBy.displayName} gets no access to tenant ${accessRequest.resourceTenantId}.`;
      },
    });
    await this.load();
  }

  private async removeAccess(approval: Approval): Promise<void> {
    await this.act({
      progress: 'Removing access…',
      failure: 'The access was not removed',
      run: async () => {
        await call('POST', `${paths.approvals}/${approval.id}/remove`);
        return `Access removed: ${approval.engineer.displayName} can no longer read this tenant's identity diagnostic data.`;
      },
    });
    await this.load();
  }

  private async requestAccess(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const requested = await this.act({
      progress: 'Requesting access…',
      failure: 'Access was not requested',
      run: async () => {
        await call('POST', paths.accessRequests, {
          body: {
            supportRequestId: String(data.get('supportRequestId')),
            resourceTenantId: String(data.get('resourceTenantId')).trim(),
            justification: String(data.get('justification')).trim(),
          },
        });
        return 'Access requested: an administrator of the support request tenant will approve or reject it.';
      },
    });
    if (requested) form.reset();
    await this.load();
  }

  protected updated(): void {
    super.updated();
    const dialog = this.querySelector('dialog#approve-dialog') as HTMLDialogElement | null;
    if (dialog && !dialog.open) dialog.showModal();
  }

  private startApproval(accessRequest: AccessRequest): void {
    // The support request tenant is the resource tenant: one sign-in is both.
    if (accessRequest.resourceTenantId === accessRequest.supportRequestTenantId) void this.approve(accessRequest);
    else this.approving = accessRequest;
  }

  private renderApproveDialog(): TemplateResult {
    const accessRequest = this.approving;
    if (!accessRequest) return html``;
    const sandbox = settings().sandboxSignIn;
    const email = session()?.claims.email ?? defaultEmail;
    return html`<dialog
      id="approve-dialog"
      aria-labelledby="approve-title"
      @close=${() => (this.approving = undefined)}
    >
      <form
        method="dialog"
        @submit=${(event: SubmitEvent) => {
          event.preventDefault();
          const tenantId = String(new FormData(event.target as HTMLFormElement).get('resourceTenantId')).trim();
          void this.approve(accessRequest, tenantId);
        }}
      >
        <h2 id="approve-title">Approve access to the resource tenant</h2>
        <p>
          ${accessRequest.requestedBy.displayName} asks to read the identity diagnostic data of another tenant. One
          administrator of both tenants approves: sign in to the resource tenant as the same person
          (${email})${sandbox ? '; the sandbox signs that second token' : ''}.
        </p>
        <label class="field"
          >Resource tenant id
          <input
            type="text"
            name="resourceTenantId"
            required
            .value=${accessRequest.resourceTenantId}
            spellcheck="false"
        /></label>
        <div class="actions">
          <button type="submit" class="primary">Sign in to the resource tenant and approve</button>
          <button type="button" @click=${() => (this.approving = undefined)}>Cancel</button>
        </div>
      </form>
    </dialog>`;
  }

  private renderPending(pending: AccessRequest[] | undefined): TemplateResult {
    const engineer = this.isEngineer;
    return html`<h2>Pending requests</h2>
      ${dataTable({
        headers: [
          'Engineer',
          'Support request',
          'Resource tenant',
          'Justification',
          'Requested',
          'Expires',
          ...(engineer ? [] : ['Actions']),
        ],
        rows: pending,
        empty: 'No request is waiting for a decision.',
        row: (request) =>
          html`<tr>
            <td>${request.requestedBy.displayName}</td>
            <td>${this.supportRequestLabel(request.supportRequestId)}</td>
            <td class="mono">${request.resourceTenantId}</td>
            <td>${request.justification}</td>
            <td>${formatDateTime(request.createdDateTime)}</td>
            <td>${formatDateTime(request.expirationDateTime)}</td>
            ${
              engineer
                ? nothing
                : html`<td>
                    <div class="actions">
                      <button
                        type="button"
                        class="primary"
                        ?disabled=${this.busy}
                        aria-label="Approve the request of ${request.requestedBy.displayName}"
                        @click=${() => this.startApproval(request)}
                      >
                        Approve
                      </button>
                      <button
                        type="button"
                        ?disabled=${this.busy}
                        aria-label="Reject the request of ${request.requestedBy.displayName}"
                        @click=${() => this.reject(request)}
                      >
                        Reject
                      </button>
                    </div>
                  </td>`
            }
          </tr>`,
      })}`;
  }

  private renderApprovals(): TemplateResult {
    if (this.isEngineer) return html``;
    return html`<h2>Access approved in this tenant</h2>
      ${
        this.approvalsNote
          ? html`<p class="muted">${this.approvalsNote}</p>`
          : dataTable({
              headers: ['Engineer', 'Support request', 'Justification', 'Approved', 'Approved by', 'Actions'],
              rows: this.approvals?.filter((approval) => approval.status === 'approved'),
              empty: "Microsoft Support has no access to this tenant's data.",
              row: (approval) =>
                html`<tr>
                  <td>${approval.engineer.displayName}</td>
                  <td>${this.supportRequestLabel(approval.supportRequestId)}</td>
                  <td>${approval.justification}</td>
                  <td>${formatDateTime(approval.createdDateTime)}</td>
                  <td>${approval.approvedBy.email}</td>
                  <td>
                    <button
                      type="button"
                      class="danger"
                      ?disabled=${this.busy}
                      aria-label="Remove access of ${approval.engineer.displayName}"
                      @click=${() =>
                        this.confirm({
                          title: 'Remove access?',
                          body: `${approval.engineer.displayName} stops reading this tenant's identity diagnostic data at once. The support request tenant is not told.`,
                          confirmLabel: 'Remove access',
                          run: () => this.removeAccess(approval),
                        })}
                    >
                      Remove access
                    </button>
                  </td>
                </tr>`,
            })
      }`;
  }

  /** Access requests decided or ended, and approvals of this tenant that ended, newest first. */
  private history(): HistoryItem[] | undefined {
    if (!this.accessRequests) return undefined;
    return [
      ...this.accessRequests
        .filter((request) => request.status !== 'pending')
        .map((request) => ({
          engineer: request.requestedBy.displayName,
          supportRequestId: request.supportRequestId,
          tenant: request.resourceTenantId,
          justification: request.justification,
          what: 'Access request',
          status: request.status,
          created: request.createdDateTime,
          ended: request.endDateTime,
        })),
      ...(this.approvals ?? [])
        .filter((approval) => approval.status !== 'approved')
        .map((approval) => ({
          engineer: approval.engineer.displayName,
          supportRequestId: approval.supportRequestId,
          tenant: approval.resourceTenantId,
          justification: approval.justification,
          what: 'Approval in this tenant',
          status: approval.status,
          created: approval.createdDateTime,
          ended: approval.endDateTime,
        })),
    ].sort((a, b) => b.created.localeCompare(a.created));
  }

  private renderHistory(): TemplateResult {
    return html`<h2>History (last 30 days)</h2>
      ${dataTable({
        headers: [
          'Engineer',
          'Support request',
          'Resource tenant',
          'Justification',
          'Item',
          'Status',
          'Requested',
          'Ended',
        ],
        rows: this.history(),
        empty: 'Nothing was decided or ended in the last 30 days.',
        row: (item) =>
          html`<tr>
            <td>${item.engineer}</td>
            <td>${this.supportRequestLabel(item.supportRequestId)}</td>
            <td class="mono">${item.tenant}</td>
            <td>${item.justification}</td>
            <td>${item.what}</td>
            <td>${formatStatus(item.status)}</td>
            <td>${formatDateTime(item.created)}</td>
            <td>${formatDateTime(item.ended)}</td>
          </tr>`,
      })}`;
  }

  private renderEngineer(): TemplateResult {
    const assigned = this.assigned;
    return html`<h2>Support requests assigned to you</h2>
      ${dataTable({
        headers: ['Title', 'Support request tenant', 'Resource tenant', 'Opened'],
        rows: assigned,
        empty: 'No open support request is assigned to you.',
        row: (request) =>
          html`<tr>
            <td>${request.title} <span class="muted mono">${request.id}</span></td>
            <td class="mono">${request.tenantId}</td>
            <td class="mono">${request.resourceTenantId ?? '—'}</td>
            <td>${formatDateTime(request.createdDateTime)}</td>
          </tr>`,
      })}
      ${
        assigned?.length
          ? html`<form class="card" @submit=${(event: SubmitEvent) => this.requestAccess(event)}>
              <h3>Request access</h3>
              <div class="toolbar">
                <label class="field"
                  >Support request
                  <select name="supportRequestId" required>
                    ${assigned.map((request) => html`<option value=${request.id}>${request.title}</option>`)}
                  </select>
                </label>
                <label class="field"
                  >Resource tenant id
                  <input type="text" name="resourceTenantId" required spellcheck="false" />
                </label>
                <label class="field"
                  >Justification
                  <input type="text" name="justification" required />
                </label>
              </div>
              <button type="submit" class="primary" ?disabled=${this.busy}>Request access</button>
            </form>`
          : nothing
      }`;
  }

  render(): TemplateResult {
    const pending = this.accessRequests?.filter((request) => request.status === 'pending');
    return html`<section>
      <h1 tabindex="-1">Microsoft Support access requests</h1>
      <p class="lead">
        Microsoft Support engineers read your tenant's identity diagnostic data only with your approval, read-only, and
        only while the support request is open. ${pending ? `${plural(pending.length, 'request')} waiting.` : ''}
      </p>
      ${this.statusRegions()} ${this.isEngineer ? this.renderEngineer() : nothing} ${this.renderPending(pending)}
      ${this.renderApprovals()} ${this.renderHistory()} ${this.renderApproveDialog()} ${this.renderConfirmation()}
    </section>`;
  }
}
