import { html, nothing, TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Collection, errorMessage, get, getAll } from '../api';
import { Page } from '../components/page';
import { dataTable, roleTable } from '../components/parts';
import { RoleCatalog, roleCatalog, roleNames } from '../directory';
import { formatAutoExtend, formatDate, formatDateTime, formatDuration, formatStatus } from '../format';
import { Relationship, relationshipsPath, roleIdsOf } from '../model';

interface Assignment {
  id: string;
  accessContainer: { accessContainerId: string; accessContainerType: string };
  accessDetails: { unifiedRoles: { roleDefinitionId: string }[] };
  status: string;
  createdDateTime: string;
}

interface RelationshipRequest {
  id: string;
  action: string;
  status: string;
  createdDateTime: string;
}

interface AuditEntry {
  id: string;
  activityDisplayName: string;
  activityDateTime: string;
  result: string;
  initiatedBy: { user: { id: string | null } | null; app: { displayName: string | null } | null };
  targetResources: { id: string }[];
}

/** Audit pages read looking for this relationship's entries (newest first, since it was created). */
const auditPagesRead = 4;

/**
 * One relationship (SPEC §17): its roles with names and descriptions, the security groups
 * assigned to it, the requests made on it and its entries in the partner's audit log.
 */
@customElement('relationship-page')
export class RelationshipPage extends Page {
  @property() relationshipId = '';
  @state() private relationship?: Relationship;
  @state() private assignments?: Assignment[];
  @state() private requests?: RelationshipRequest[];
  @state() private audits?: AuditEntry[];
  @state() private auditNote?: string;
  @state() private roles?: RoleCatalog;
  @state() private failed = false;

  connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    const base = `${relationshipsPath}/${encodeURIComponent(this.relationshipId)}`;
    void roleCatalog().then((roles) => (this.roles = roles));
    try {
      this.relationship = await get<Relationship>(base);
    } catch (error) {
      this.failed = true;
      this.reportError('The relationship could not be read', error);
      return;
    }
    const problems: string[] = [];
    const part = <T>(read: Promise<T>, what: string): Promise<T | undefined> =>
      read.catch((error: unknown) => {
        problems.push(`${what}: ${errorMessage(error)}`);
        return undefined;
      });
    const [assignments, requests] = await Promise.all([
      part(getAll<Assignment>(`${base}/accessAssignments`), 'Access assignments'),
      part(getAll<RelationshipRequest>(`${base}/requests`), 'Requests'),
      part(this.loadAudit(this.relationship), 'Audit entries'),
    ]);
    this.assignments = assignments ?? [];
    this.requests = requests ?? [];
    this.audits ??= [];
    if (problems.length) this.report('error', 'Some parts could not be read.', problems);
  }

  /** The audit log has no filter by target, so this reads its newest pages since the relationship was created. */
  private async loadAudit(relationship: Relationship): Promise<void> {
    const query = new URLSearchParams({
      $filter: `activityDateTime ge ${relationship.createdDateTime}`,
      $top: '300',
    });
    let next: string | undefined = `/v1.0/auditLogs/directoryAudits?${query}`;
    const found: AuditEntry[] = [];
    for (let read = 0; next && read < auditPagesRead; read++) {
      const page: Collection<AuditEntry> = await get<Collection<AuditEntry>>(next);
      found.push(
        ...page.value.filter((entry) => entry.targetResources.some((target) => target.id === relationship.id)),
      );
      next = page['@odata.nextLink'];
    }
    this.audits = found;
    this.auditNote = next ? `Entries from the newest ${auditPagesRead * 300} of the audit log.` : undefined;
  }

  private renderFacts(relationship: Relationship): TemplateResult {
    return html`<dl class="facts card">
      <dt>Status</dt>
      <dd>${formatStatus(relationship.status)}</dd>
      <dt>Customer</dt>
      <dd>
        ${
          relationship.customer
            ? html`${relationship.customer.displayName || 'Unnamed tenant'}
                <span class="muted mono">${relationship.customer.tenantId}</span>`
            : 'Any customer (the first to approve)'
        }
      </dd>
      <dt>Duration</dt>
      <dd>${formatDuration(relationship.duration)}</dd>
      <dt>Created</dt>
      <dd>${formatDateTime(relationship.createdDateTime)}</dd>
      <dt>Activated</dt>
      <dd>${formatDateTime(relationship.activatedDateTime)}</dd>
      <dt>End date</dt>
      <dd>${formatDate(relationship.endDateTime)}</dd>
      <dt>Auto-extend</dt>
      <dd>${formatAutoExtend(relationship.autoExtendDuration)}</dd>
      <dt>Id</dt>
      <dd class="mono">${relationship.id}</dd>
    </dl>`;
  }

  private renderRoles(relationship: Relationship): TemplateResult {
    return html`<h2>Roles</h2>
      ${roleTable(roleIdsOf(relationship), this.roles)}`;
  }

  private renderAssignments(): TemplateResult {
    return html`<h2>Access assignments</h2>
      ${dataTable({
        headers: ['Security group', 'Roles', 'Status', 'Created'],
        rows: this.assignments,
        empty: 'No security group is assigned: this relationship grants nobody anything yet.',
        row: (assignment) =>
          html`<tr>
            <td class="mono">${assignment.accessContainer.accessContainerId}</td>
            <td>
              ${roleNames(
                this.roles,
                assignment.accessDetails.unifiedRoles.map((role) => role.roleDefinitionId),
              )}
            </td>
            <td>${formatStatus(assignment.status)}</td>
            <td>${formatDateTime(assignment.createdDateTime)}</td>
          </tr>`,
      })}`;
  }

  private renderRequests(): TemplateResult {
    return html`<h2>Requests</h2>
      ${dataTable({
        headers: ['Action', 'Status', 'Created'],
        rows: this.requests,
        empty: 'No requests.',
        row: (request) =>
          html`<tr>
            <td>${formatStatus(request.action)}</td>
            <td>${formatStatus(request.status)}</td>
            <td>${formatDateTime(request.createdDateTime)}</td>
          </tr>`,
      })}`;
  }

  private renderAudit(): TemplateResult {
    return html`<h2>Audit entries</h2>
      ${this.auditNote ? html`<p class="muted">${this.auditNote}</p>` : nothing}
      ${dataTable({
        headers: ['Activity', 'Date', 'Initiated by', 'Result'],
        rows: this.audits,
        empty: 'No audit entries.',
        row: (entry) =>
          html`<tr>
            <td>${entry.activityDisplayName}</td>
            <td>${formatDateTime(entry.activityDateTime)}</td>
            <td>
              ${
                entry.initiatedBy.user
                  ? html`User <span class="mono">${entry.initiatedBy.user.id ?? ''}</span>`
                  : (entry.initiatedBy.app?.displayName ?? 'The service')
              }
            </td>
            <td>${entry.result === 'success' ? 'Success' : 'Failure'}</td>
          </tr>`,
      })}`;
  }

  render(): TemplateResult {
    const relationship = this.relationship;
    return html`<section>
      <p><a href="/portal/relationships">← Relationships</a></p>
      <h1 tabindex="-1">
        ${relationship?.displayName ?? (this.failed ? 'Relationship not available' : 'Relationship')}
      </h1>
      ${this.statusRegions()}
      ${
        relationship
          ? html`${this.renderFacts(relationship)} ${this.renderRoles(relationship)} ${this.renderAssignments()}
            ${this.renderRequests()} ${this.renderAudit()}`
          : this.failed
            ? nothing
            : html`<p class="muted">Loading…</p>`
      }
    </section>`;
  }
}
