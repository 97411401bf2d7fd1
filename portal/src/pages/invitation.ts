import { html, nothing, TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { ApiError, call, get } from '../api';
import { Page } from '../components/page';
import { roleTable } from '../components/parts';
import { RoleCatalog, roleCatalog, serviceNow, TenantInfo, tenantInfo } from '../directory';
import { addDays, durationDays, formatAutoExtend, formatDate, formatDuration, formatStatus } from '../format';
import { hasGlobalAdministrator, partnerTenantOf, Relationship, relationshipsPath, roleIdsOf } from '../model';

/**
 * The customer's invitation page (SPEC §2.3, §17), where the partner's invitation link lands: who
 * asks, for which roles, for how long, and Approve or Reject for the customer's Global
 * Administrator (or Delegated Admin Relationship Administrator).
 */
@customElement('invitation-page')
export class InvitationPage extends Page {
  @property() relationshipId = '';
  @state() private relationship?: Relationship;
  @state() private partner?: TenantInfo;
  @state() private roles?: RoleCatalog;
  @state() private now = new Date();
  @state() private missing = false;

  connectedCallback(): void {
    super.connectedCallback();
    void roleCatalog().then((roles) => (this.roles = roles));
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const [relationship, now] = await Promise.all([
        get<Relationship>(`${relationshipsPath}/${encodeURIComponent(this.relationshipId)}`),
        serviceNow(),
      ]);
      this.now = now;
      this.relationship = relationship;
    } catch (error) {
      this.missing = true;
      if (error instanceof ApiError && error.status === 404) {
        this.report(
          'error',
          'This invitation was not found: it may be for another organization, or the link is incomplete.',
        );
      } else this.reportError('The invitation could not be read', error);
      return;
    }
    const partnerTenantId = partnerTenantOf(this.relationship.id);
    if (partnerTenantId) {
      this.partner = (await tenantInfo(partnerTenantId).catch(() => undefined)) ?? {
        tenantId: partnerTenantId,
        displayName: `Partner tenant ${partnerTenantId}`,
      };
    }
  }

  /** Approve or reject what the page shows: If-Match makes a changed invitation fail (412) rather than pass unseen. */
  private async decide(action: 'approve' | 'reject'): Promise<void> {
    const relationship = this.relationship as Relationship;
    const url = `${relationshipsPath}/${encodeURIComponent(relationship.id)}`;
    const partner = this.partner?.displayName ?? 'The partner';
    await this.act({
      progress: action === 'approve' ? 'Approving…' : 'Rejecting…',
      failure: action === 'approve' ? 'The invitation was not approved' : 'The invitation was not rejected',
      run: async () => {
        await call('POST', `${url}/requests`, {
          body: { action },
          headers: relationship['@odata.etag'] ? { 'if-match': relationship['@odata.etag'] } : {},
        });
        this.relationship = await get<Relationship>(url);
        return action === 'approve'
          ? `Approved. ${partner} has these roles in your organization until ${formatDate(this.relationship.endDateTime)}.`
          : `Rejected. ${partner} gets no access; the invitation cannot be used again.`;
      },
    });
  }

  private renderInvitation(relationship: Relationship): TemplateResult {
    const days = durationDays(relationship.duration);
    const pending = relationship.status === 'approvalPending';
    const partnerName = this.partner?.displayName ?? 'A partner';
    return html`<p class="lead">
        ${partnerName} asks for administrative roles in your organization through a granular delegated admin privileges
        (GDAP) relationship. Roles are granted only to the partner's security groups you can see below once assigned,
        and only for the duration shown.
      </p>
      ${
        hasGlobalAdministrator(relationship)
          ? html`<p class="warning" role="note">
              <strong>This request includes Global Administrator,</strong> the most privileged role: the partner's users
              could manage everything in your organization, including other administrators. A relationship with Global
              Administrator also cannot auto-extend. Approve only if the partner needs it.
            </p>`
          : nothing
      }
      <dl class="facts card">
        <dt>Partner</dt>
        <dd>${partnerName} <span class="muted mono">${this.partner?.tenantId ?? ''}</span></dd>
        <dt>Relationship</dt>
        <dd>${relationship.displayName}</dd>
        <dt>Duration</dt>
        <dd>${formatDuration(relationship.duration)}</dd>
        <dt>${pending ? 'End date if approved now' : 'End date'}</dt>
        <dd>
          ${pending && days !== undefined ? formatDate(addDays(this.now, days)) : formatDate(relationship.endDateTime)}
        </dd>
        <dt>Auto-extend</dt>
        <dd>
          ${formatAutoExtend(relationship.autoExtendDuration)}${
            relationship.autoExtendDuration === 'P180D'
              ? ' — at its end it extends by 180 days unless you or the partner turn this off'
              : ''
          }
        </dd>
        <dt>Status</dt>
        <dd>${formatStatus(relationship.status)}</dd>
      </dl>
      <h2>Requested roles</h2>
      ${roleTable(roleIdsOf(relationship), this.roles, 'What it allows')}
      ${
        pending
          ? html`<div class="actions card">
              <button type="button" class="primary" ?disabled=${this.busy} @click=${() => this.decide('approve')}>
                Approve
              </button>
              <button type="button" ?disabled=${this.busy} @click=${() => this.decide('reject')}>Reject</button>
            </div>`
          : html`<p>
              This invitation is no longer waiting for a decision.
              <a href="/portal/customer/relationships">See your partner relationships</a>.
            </p>`
      }`;
  }

  render(): TemplateResult {
    const relationship = this.relationship;
    return html`<section>
      <h1 tabindex="-1">${this.partner ? `Invitation from ${this.partner.displayName}` : 'Partner invitation'}</h1>
      ${this.statusRegions()}
      ${relationship ? this.renderInvitation(relationship) : this.missing ? nothing : html`<p class="muted">Loading…</p>`}
    </section>`;
  }
}
