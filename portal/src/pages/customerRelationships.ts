import { html, nothing, TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { call, getAll } from '../api';
import { Page } from '../components/page';
import { dataTable } from '../components/parts';
import { RoleCatalog, roleCatalog, roleName, roleNames, tenantInfo } from '../directory';
import { formatAutoExtend, formatDate, formatStatus } from '../format';
import { partnerTenantOf, Relationship, relationshipsPath, removeRoles, roleIdsOf } from '../model';
import { session } from '../session';

/**
 * The customer's side (SPEC §2.2, §2.3, §17): every partner relationship with this organization,
 * with Terminate for active ones and removal of single roles (never adding one).
 */
@customElement('customer-relationships-page')
export class CustomerRelationshipsPage extends Page {
  @state() private relationships?: Relationship[];
  @state() private partners = new Map<string, string>();
  @state() private roles?: RoleCatalog;
  @state() private expanded = new Set<string>();

  connectedCallback(): void {
    super.connectedCallback();
    void roleCatalog().then((roles) => (this.roles = roles));
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const own = session()?.claims.tid.toLowerCase();
      const all = await getAll<Relationship>(`${relationshipsPath}?$top=300`);
      // A tenant that is also a partner sees its own relationships in the same collection; these are the customer's.
      this.relationships = all.filter((item) => partnerTenantOf(item.id) !== own);
      const partnerIds = [
        ...new Set(this.relationships.map((item) => partnerTenantOf(item.id)).filter(Boolean)),
      ] as string[];
      const names = await Promise.all(partnerIds.map((id) => tenantInfo(id).catch(() => undefined)));
      this.partners = new Map(partnerIds.map((id, index) => [id, names[index]?.displayName ?? id]));
    } catch (error) {
      this.relationships ??= [];
      this.reportError('Your partner relationships could not be read', error);
    }
  }

  private partnerName(relationship: Relationship): string {
    const id = partnerTenantOf(relationship.id);
    return (id && this.partners.get(id)) || id || 'Unknown partner';
  }

  private async terminate(relationship: Relationship): Promise<void> {
    await this.act({
      progress: `Terminating ${relationship.displayName}…`,
      failure: `${relationship.displayName} was not terminated`,
      run: async () => {
        await call('POST', `${relationshipsPath}/${encodeURIComponent(relationship.id)}/requests`, {
          body: { action: 'terminate' },
        });
        return `${relationship.displayName} is terminated: ${this.partnerName(relationship)} has no access through it any more.`;
      },
    });
    await this.load();
  }

  private async removeRole(relationship: Relationship, roleId: string): Promise<void> {
    const role = roleName(this.roles, roleId);
    await this.act({
      progress: `Removing ${role} from ${relationship.displayName}…`,
      failure: `${role} was not removed from ${relationship.displayName}`,
      run: async () => {
        await removeRoles(relationship.id, [roleId]);
        return `${role} removed from ${relationship.displayName}.`;
      },
    });
    await this.load();
  }

  private toggleRoles(id: string): void {
    const next = new Set(this.expanded);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    this.expanded = next;
  }

  private renderRoles(relationship: Relationship): TemplateResult {
    const ids = roleIdsOf(relationship);
    return html`<tr class="details">
      <td colspan="6">
        <ul class="role-list">
          ${ids.map(
            (id) =>
              html`<li>
                <span>${roleName(this.roles, id)}</span>
                ${
                  ids.length > 1
                    ? html`<button
                        type="button"
                        class="danger"
                        ?disabled=${this.busy}
                        aria-label="Remove ${roleName(this.roles, id)} from ${relationship.displayName}"
                        @click=${() =>
                          this.confirm({
                            title: `Remove ${roleName(this.roles, id)}?`,
                            body: `${this.partnerName(relationship)} loses ${roleName(this.roles, id)} in your organization at once. A removed role can only come back with a new relationship.`,
                            confirmLabel: 'Remove role',
                            run: () => this.removeRole(relationship, id),
                          })}
                      >
                        Remove
                      </button>`
                    : html`<span class="muted">(the last role: terminate the relationship instead)</span>`
                }
              </li>`,
          )}
        </ul>
      </td>
    </tr>`;
  }

  private renderRow(relationship: Relationship): TemplateResult {
    const active = relationship.status === 'active';
    const open = this.expanded.has(relationship.id);
    return html`<tr>
        <td>${relationship.displayName}</td>
        <td>${this.partnerName(relationship)}</td>
        <td>${formatStatus(relationship.status)}</td>
        <td>${roleNames(this.roles, roleIdsOf(relationship))}</td>
        <td>
          ${formatDate(relationship.endDateTime)}
          <span class="muted">· auto-extend ${formatAutoExtend(relationship.autoExtendDuration).toLowerCase()}</span>
        </td>
        <td>
          <div class="actions">
            ${
              relationship.status === 'approvalPending'
                ? html`<a href="/portal/invitations/${encodeURIComponent(relationship.id)}">Review invitation</a>`
                : nothing
            }
            ${
              active
                ? html`<button
                      type="button"
                      aria-expanded=${open ? 'true' : 'false'}
                      aria-label="Roles of ${relationship.displayName}"
                      @click=${() => this.toggleRoles(relationship.id)}
                    >
                      Roles
                    </button>
                    <button
                      type="button"
                      class="danger"
                      ?disabled=${this.busy}
                      aria-label="Terminate ${relationship.displayName}"
                      @click=${() =>
                        this.confirm({
                          title: `Terminate ${relationship.displayName}?`,
                          body: `${this.partnerName(relationship)} loses every role this relationship grants, at once. This cannot be undone.`,
                          confirmLabel: 'Terminate',
                          run: () => this.terminate(relationship),
                        })}
                    >
                      Terminate
                    </button>`
                : nothing
            }
          </div>
        </td>
      </tr>
      ${active && open ? this.renderRoles(relationship) : nothing}`;
  }

  render(): TemplateResult {
    return html`<section>
      <h1 tabindex="-1">Partner relationships</h1>
      <p class="lead">
        Partners with granular delegated admin (GDAP) roles in your organization, and invitations waiting for you.
      </p>
      ${this.statusRegions()}
      ${dataTable({
        headers: ['Relationship', 'Partner', 'Status', 'Roles', 'End date', 'Actions'],
        rows: this.relationships,
        empty: 'No partner has a relationship with your organization.',
        row: (relationship) => this.renderRow(relationship),
      })}
      ${this.renderConfirmation()}
    </section>`;
  }
}
