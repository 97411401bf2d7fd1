import { html, nothing, TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { call, get } from '../api';
import { Page, reportOnNextPage } from '../components/page';
import { NextLinkPages } from '../components/nextLinkPages';
import { dataTable, roleTable } from '../components/parts';
import { TemplateBody } from '../components/templateForm';
import '../components/templateForm';
import { RoleCatalog, roleCatalog, roleNames, tenantInfo } from '../directory';
import {
  formatJobState,
  hasDrift,
  jobIdFrom,
  parseIdList,
  rememberTemplateName,
  startJob,
  Template,
  TemplateCustomer,
  templatePath,
} from '../fleet';
import { formatAutoExtend, formatDate, formatDateTime, formatDuration, formatStatus, plural } from '../format';
import { navigate } from '../router';

const pageSize = 50;

interface UnassignResult {
  customerTenantId: string;
  status: 'succeeded' | 'failed';
  error?: { code: string; message: string };
}

const jobHref = (id: string): string => `/portal/jobs/${encodeURIComponent(id)}`;

/**
 * One template (SPEC §15.1–§15.3): what it asks for, edit and delete, assign customers pasted as
 * a list (a job, watched on its page), and its customers with each one's drift from the template,
 * repaired by a reconcile job; customers can be unassigned (which ends nothing).
 */
@customElement('template-page')
export class TemplatePage extends Page {
  @property() templateId = '';
  @state() private template?: Template;
  @state() private failed = false;
  @state() private editing = false;
  @state() private roles?: RoleCatalog;
  @state() private assignText = '';
  @state() private renew = false;
  @state() private customers?: TemplateCustomer[];
  @state() private names = new Map<string, string>();
  @state() private selected = new Set<string>();
  private readonly customerPages = new NextLinkPages<TemplateCustomer>(pageSize);

  connectedCallback(): void {
    super.connectedCallback();
    void roleCatalog().then((roles) => (this.roles = roles));
    void this.load();
  }

  private get path(): string {
    return templatePath(this.templateId);
  }

  private async load(): Promise<void> {
    try {
      this.template = await get<Template>(this.path);
      rememberTemplateName(this.template.id, this.template.displayName);
    } catch (error) {
      this.failed = true;
      this.reportError('The template could not be read', error);
      return;
    }
    await this.loadCustomers(0);
  }

  private async loadCustomers(page: number): Promise<void> {
    try {
      const rows = await this.customerPages.read(page, `${this.path}/customers?$top=${pageSize}`);
      this.customers = rows;
      const present = new Set(rows.map((row) => row.customerTenantId));
      this.selected = new Set([...this.selected].filter((id) => present.has(id)));
      void this.nameCustomers(rows);
    } catch (error) {
      this.customers ??= [];
      this.reportError("The template's customers could not be read", error);
    }
  }

  private async nameCustomers(rows: TemplateCustomer[]): Promise<void> {
    await Promise.all(
      rows
        .filter((row) => !this.names.has(row.customerTenantId))
        .map(async (row) => {
          const info = await tenantInfo(row.customerTenantId).catch(() => undefined);
          if (info?.displayName) this.names = new Map(this.names).set(row.customerTenantId, info.displayName);
        }),
    );
  }

  /** A PATCH sends only what changed: a change of groups or roles starts a reconcile job (Operation-Location). */
  private async save(body: TemplateBody): Promise<void> {
    const template = this.template as Template;
    const changed: Partial<TemplateBody> = {};
    const current: TemplateBody = {
      displayName: template.displayName,
      description: template.description,
      duration: template.duration,
      autoExtendDuration: template.autoExtendDuration,
      relationshipNamePrefix: template.relationshipNamePrefix,
      accessAssignments: template.accessAssignments,
    };
    for (const key of Object.keys(body) as (keyof TemplateBody)[]) {
      if (JSON.stringify(body[key]) !== JSON.stringify(current[key])) Object.assign(changed, { [key]: body[key] });
    }
    if (Object.keys(changed).length === 0) {
      this.editing = false;
      this.report('info', 'Nothing changed.');
      return;
    }
    let job: string | undefined;
    const saved = await this.act({
      progress: `Saving ${template.displayName}…`,
      failure: 'The template was not saved',
      run: async () => {
        const answer = await call<Template>('PATCH', this.path, {
          headers: { 'if-match': template['@odata.etag'] },
          body: changed,
        });
        this.template = answer.body;
        rememberTemplateName(answer.body.id, answer.body.displayName);
        job = jobIdFrom(answer.headers.get('operation-location'));
        return `Template ${answer.body.displayName} saved.`;
      },
    });
    if (!saved) return;
    this.editing = false;
    if (job) {
      this.report(
        'success',
        `Template ${this.template?.displayName} saved. Its relationships are being brought in line with it.`,
        undefined,
        { href: jobHref(job), text: 'Watch the reconcile job' },
      );
    }
    await this.loadCustomers(0);
  }

  private async deleteTemplate(): Promise<void> {
    const template = this.template as Template;
    const removed = await this.act({
      progress: `Deleting ${template.displayName}…`,
      failure: 'The template was not deleted',
      run: async () => {
        await call('DELETE', this.path, { headers: { 'if-match': template['@odata.etag'] } });
        return `Template ${template.displayName} deleted.`;
      },
    });
    if (!removed) return;
    reportOnNextPage({
      kind: 'success',
      text: `Template ${template.displayName} deleted. Its relationships were left as they are.`,
    });
    navigate('/portal/templates');
  }

  private async assign(event: Event): Promise<void> {
    event.preventDefault();
    const { ids, duplicates } = parseIdList(this.assignText);
    if (ids.length === 0) {
      this.report('error', 'Paste at least one customer tenant id.');
      return;
    }
    let job: string | undefined;
    await this.act({
      progress: `Assigning ${plural(ids.length, 'customer')}…`,
      failure: 'The customers were not assigned',
      run: async () => {
        job = await startJob(`${this.path}/assign`, {
          customerTenantIds: ids,
          ...(this.renew ? { renew: true } : {}),
        });
        return 'Assigned.';
      },
    });
    if (!job) return;
    const note = duplicates ? ` (${plural(duplicates, 'repeated id')} left out)` : '';
    reportOnNextPage({
      kind: 'success',
      text: `Assigning ${plural(ids.length, 'customer')} to ${this.template?.displayName}${note}.`,
    });
    navigate(jobHref(job));
  }

  private async reconcile(): Promise<void> {
    let job: string | undefined;
    await this.act({
      progress: 'Starting a reconcile…',
      failure: 'The reconcile was not started',
      run: async () => {
        job = await startJob(`${this.path}/reconcile`);
        return 'Reconcile started.';
      },
    });
    if (!job) return;
    reportOnNextPage({ kind: 'success', text: `Reconciling the customers of ${this.template?.displayName}.` });
    navigate(jobHref(job));
  }

  private async unassign(ids: string[]): Promise<void> {
    this.busy = true;
    this.report('info', `Unassigning ${plural(ids.length, 'customer')}…`);
    try {
      const answer = await call<{ results: UnassignResult[] }>('POST', `${this.path}/unassign`, {
        body: { customerTenantIds: ids },
      });
      const failed = answer.body.results.filter((result) => result.status === 'failed');
      const done = `${plural(ids.length - failed.length, 'customer')} unassigned. Their relationships were left as they are.`;
      if (failed.length === 0) this.report('success', done);
      else {
        this.report(
          'error',
          `${done} ${failed.length} could not be unassigned:`,
          failed.map((result) => `${this.customerName(result.customerTenantId)}: ${result.error?.message ?? 'failed'}`),
        );
      }
    } catch (error) {
      this.reportError('The customers were not unassigned', error);
    } finally {
      this.busy = false;
    }
    await this.loadCustomers(0);
  }

  private customerName(tenantId: string): string {
    return this.names.get(tenantId) ?? tenantId;
  }

  private toggle(id: string, on: boolean): void {
    const next = new Set(this.selected);
    if (on) next.add(id);
    else next.delete(id);
    this.selected = next;
  }

  private renderDrift(row: TemplateCustomer): TemplateResult {
    if (row.state === 'pending') return html`<span class="muted">Its relationship is being created.</span>`;
    if (row.state === 'awaitingApproval') return html`<span class="muted">Waiting for the customer's approval.</span>`;
    if (row.state === 'failed') {
      return html`<span class="muted"
        >No active relationship${row.relationshipStatus ? ` (${formatStatus(row.relationshipStatus)})` : ''}.</span
      >`;
    }
    if (!hasDrift(row.drift)) return html`Matches the template`;
    const roles = (ids: string[]) => roleNames(this.roles, ids);
    const { missing, extra, changed, rolesNotInRelationship } = row.drift;
    return html`<ul class="drift">
      ${missing.map(
        (group) =>
          html`<li>
            Missing group <span class="mono">${group.accessContainerId}</span> (${roles(group.unifiedRoles)})
          </li>`,
      )}
      ${extra.map(
        (group) =>
          html`<li>
            Extra group <span class="mono">${group.accessContainerId}</span> (${roles(group.unifiedRoles)})
          </li>`,
      )}
      ${changed.map(
        (group) =>
          html`<li>
            Group <span class="mono">${group.accessContainerId}</span> has ${roles(group.actual) || 'no roles'}; the
            template gives it ${roles(group.expected)}
          </li>`,
      )}
      ${
        rolesNotInRelationship.length
          ? html`<li>
              Roles the relationship lacks: ${roles(rolesNotInRelationship)} (assign again with “Renew” to replace it)
            </li>`
          : nothing
      }
    </ul>`;
  }

  private renderCustomer(row: TemplateCustomer): TemplateResult {
    const name = this.customerName(row.customerTenantId);
    return html`<tr>
      <td class="select">
        <input
          type="checkbox"
          aria-label="Select ${name}"
          .checked=${this.selected.has(row.customerTenantId)}
          @change=${(event: Event) => this.toggle(row.customerTenantId, (event.target as HTMLInputElement).checked)}
        />
      </td>
      <td>
        ${name}${name !== row.customerTenantId ? html`<div class="muted mono">${row.customerTenantId}</div>` : nothing}
      </td>
      <td>${formatJobState(row.state)}</td>
      <td>
        ${
          row.relationshipId
            ? html`<a href="/portal/relationships/${encodeURIComponent(row.relationshipId)}"
                >${row.relationshipStatus ? formatStatus(row.relationshipStatus) : 'Relationship'}</a
              >`
            : html`<span class="muted">—</span>`
        }
      </td>
      <td class="nowrap">${formatDate(row.endDateTime)}</td>
      <td>${this.renderDrift(row)}</td>
    </tr>`;
  }

  private renderFacts(template: Template): TemplateResult {
    return html`<div class="card">
        <dl class="facts">
          <dt>Description</dt>
          <dd>${template.description ?? '—'}</dd>
          <dt>Duration</dt>
          <dd>${formatDuration(template.duration)}</dd>
          <dt>Auto-extend</dt>
          <dd>${formatAutoExtend(template.autoExtendDuration)}</dd>
          <dt>Relationship names</dt>
          <dd><span class="mono">${template.relationshipNamePrefix}_</span> and 8 random characters</dd>
          <dt>Last changed</dt>
          <dd>${formatDateTime(template.lastModifiedDateTime)}</dd>
        </dl>
      </div>
      <h2>Roles each relationship asks for</h2>
      ${roleTable(
        template.unifiedRoles.map((role) => role.roleDefinitionId),
        this.roles,
      )}
      <h2>Security groups</h2>
      ${dataTable({
        headers: ['Security group', 'Roles'],
        rows: template.accessAssignments,
        empty: 'No groups.',
        row: (assignment) =>
          html`<tr>
            <td class="mono">${assignment.accessContainer.accessContainerId}</td>
            <td>
              ${roleNames(
                this.roles,
                assignment.accessDetails.unifiedRoles.map((role) => role.roleDefinitionId),
              )}
            </td>
          </tr>`,
      })}`;
  }

  private renderAssign(): TemplateResult {
    return html`<h2>Assign customers</h2>
      <form class="card stack" @submit=${(event: Event) => void this.assign(event)}>
        <label class="field"
          >Customer tenant ids
          <textarea
            rows="5"
            class="mono"
            spellcheck="false"
            aria-describedby="assign-hint"
            .value=${this.assignText}
            @input=${(event: Event) => (this.assignText = (event.target as HTMLTextAreaElement).value)}
          ></textarea>
        </label>
        <p id="assign-hint" class="muted">
          One a line, or separated by commas or spaces; up to 10,000. A customer already in another template fails with
          a conflict.
        </p>
        <label class="field-inline"
          ><input
            type="checkbox"
            .checked=${this.renew}
            @change=${(event: Event) => (this.renew = (event.target as HTMLInputElement).checked)}
          />Renew: replace a relationship that lacks the template's roles with a new one</label
        >
        <div class="actions">
          <button type="submit" class="primary" ?disabled=${this.busy}>Assign customers</button>
        </div>
      </form>`;
  }

  private renderCustomers(): TemplateResult {
    const rows = this.customers ?? [];
    const drifted = rows.filter((row) => row.state === 'active' && hasDrift(row.drift)).length;
    return html`<h2>Customers</h2>
      <div class="toolbar">
        <div class="actions">
          <button type="button" class="primary" ?disabled=${this.busy} @click=${() => void this.reconcile()}>
            Reconcile drifted customers
          </button>
          <button
            type="button"
            ?disabled=${this.busy || this.selected.size === 0}
            @click=${() =>
              this.confirm({
                title: 'Unassign customers?',
                body: `${plural(this.selected.size, 'customer')} will no longer follow this template. Their relationships and groups stay as they are.`,
                confirmLabel: 'Unassign',
                run: () => this.unassign([...this.selected]),
              })}
          >
            Unassign selected
          </button>
          <button type="button" ?disabled=${this.busy} @click=${() => void this.loadCustomers(this.customerPages.page)}>
            Refresh
          </button>
          <span aria-live="polite">${plural(this.selected.size, 'customer')} selected</span>
        </div>
      </div>
      ${dataTable({
        caption: `Customers of this template${this.customers ? ` (${plural(drifted, 'drifted customer')} on this page)` : ''}`,
        headers: [
          html`<th scope="col" class="select"><span class="visually-hidden">Select</span></th>`,
          'Customer',
          'State',
          'Relationship',
          'End date',
          'Drift',
        ],
        rows: this.customers,
        empty: 'No customer is assigned to this template.',
        row: (row) => this.renderCustomer(row),
      })}
      ${this.customerPages.render((page) => void this.loadCustomers(page))}`;
  }

  render(): TemplateResult {
    const template = this.template;
    if (!template) {
      return html`<section>
        <h1 tabindex="-1">${this.failed ? 'Template not found' : 'Template'}</h1>
        <p><a href="/portal/templates">All templates</a></p>
        ${this.statusRegions()} ${this.failed ? nothing : html`<p class="muted">Loading…</p>`}
      </section>`;
    }
    return html`<section>
      <h1 tabindex="-1">${template.displayName}</h1>
      <p class="lead"><a href="/portal/templates">All templates</a> · GDAP template</p>
      ${this.statusRegions()}
      <div class="actions">
        <button type="button" ?disabled=${this.busy} @click=${() => (this.editing = !this.editing)}>
          ${this.editing ? 'Stop editing' : 'Edit template'}
        </button>
        <button
          type="button"
          class="danger"
          ?disabled=${this.busy}
          @click=${() =>
            this.confirm({
              title: 'Delete this template?',
              body: `${template.displayName} will be deleted and its customers freed. No relationship ends and no group loses its roles.`,
              confirmLabel: 'Delete template',
              run: () => this.deleteTemplate(),
            })}
        >
          Delete template
        </button>
      </div>
      ${
        this.editing
          ? html`<h2>Edit template</h2>
              <template-form
                .template=${template}
                .catalog=${this.roles}
                .busy=${this.busy}
                submitLabel="Save template"
                .save=${(body: TemplateBody) => void this.save(body)}
              ></template-form>`
          : this.renderFacts(template)
      }
      ${this.renderAssign()} ${this.renderCustomers()} ${this.renderConfirmation()}
    </section>`;
  }
}
