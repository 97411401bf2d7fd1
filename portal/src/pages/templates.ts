import { html, TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { call } from '../api';
import { Page, reportOnNextPage } from '../components/page';
import { NextLinkPages } from '../components/nextLinkPages';
import { dataTable, roleSummary } from '../components/parts';
import { TemplateBody } from '../components/templateForm';
import '../components/templateForm';
import { RoleCatalog, roleCatalog } from '../directory';
import { Template, templatesPath } from '../fleet';
import { formatAutoExtend, formatDateTime, formatDuration, plural } from '../format';
import { navigate } from '../router';

const pageSize = 50;

/** The partner's GDAP templates (SPEC §15.1): a role set and its groups, saved once, applied to many customers. */
@customElement('templates-page')
export class TemplatesPage extends Page {
  @state() private rows?: Template[];
  @state() private roles?: RoleCatalog;
  private readonly pages = new NextLinkPages<Template>(pageSize);

  connectedCallback(): void {
    super.connectedCallback();
    void roleCatalog().then((roles) => (this.roles = roles));
    void this.load(0);
  }

  private async load(page: number): Promise<void> {
    try {
      this.rows = await this.pages.read(page, `${templatesPath}?$top=${pageSize}`);
    } catch (error) {
      this.rows ??= [];
      this.reportError('The templates could not be read', error);
    }
  }

  private renderRow(template: Template): TemplateResult {
    return html`<tr>
      <td><a href="/portal/templates/${encodeURIComponent(template.id)}">${template.displayName}</a></td>
      <td>${template.description ?? html`<span class="muted">—</span>`}</td>
      <td>
        ${roleSummary(
          template.unifiedRoles.map((role) => role.roleDefinitionId),
          this.roles,
        )}
      </td>
      <td>${plural(template.accessAssignments.length, 'group')}</td>
      <td>${formatDuration(template.duration)}</td>
      <td>${formatAutoExtend(template.autoExtendDuration)}</td>
      <td class="nowrap">${formatDateTime(template.lastModifiedDateTime)}</td>
    </tr>`;
  }

  render(): TemplateResult {
    return html`<section>
      <h1 tabindex="-1">GDAP templates</h1>
      <p class="lead">
        A template is a role set and the security groups that get those roles. Assign customers to it: each gets a
        relationship asking for the roles (already approved where you have DAP), and its groups once approved.
      </p>
      <div class="toolbar">
        <a class="button primary" href="/portal/templates/new">New template</a>
        <a href="/portal/jobs">Jobs</a>
      </div>
      ${this.statusRegions()}
      ${dataTable({
        caption: 'Templates',
        headers: ['Name', 'Description', 'Roles', 'Groups', 'Duration', 'Auto-extend', 'Last changed'],
        rows: this.rows,
        empty: 'No templates yet: create one with New template.',
        row: (template) => this.renderRow(template),
      })}
      ${this.pages.render((page) => void this.load(page))}
    </section>`;
  }
}

/** A new template: the form, then the template's page (where customers are assigned). */
@customElement('new-template-page')
export class NewTemplatePage extends Page {
  @state() private roles?: RoleCatalog;

  connectedCallback(): void {
    super.connectedCallback();
    void roleCatalog().then((roles) => (this.roles = roles));
  }

  private async create(body: TemplateBody): Promise<void> {
    let created: Template | undefined;
    await this.act({
      progress: `Creating ${body.displayName}…`,
      failure: 'The template was not created',
      run: async () => {
        created = (await call<Template>('POST', templatesPath, { body })).body;
        return `Template ${created.displayName} created.`;
      },
    });
    if (!created) return;
    reportOnNextPage({
      kind: 'success',
      text: `Template ${created.displayName} created. Assign customers to it below.`,
    });
    navigate(`/portal/templates/${encodeURIComponent(created.id)}`);
  }

  render(): TemplateResult {
    return html`<section>
      <h1 tabindex="-1">New GDAP template</h1>
      <p class="lead"><a href="/portal/templates">All templates</a></p>
      <template-form
        .catalog=${this.roles}
        .busy=${this.busy}
        .save=${(body: TemplateBody) => void this.create(body)}
      ></template-form>
      ${this.statusRegions()}
    </section>`;
  }
}
