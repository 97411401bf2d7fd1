import { html, LitElement, nothing, TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { RoleCatalog, roleNames } from '../directory';
import { Template } from '../fleet';
import { autoExtends, durationDays } from '../format';
import { roleIds as knownRoles } from '../roleIds';

interface GroupDraft {
  /** Keeps each group's inputs in place when another group is removed. */
  key: number;
  groupId: string;
  roleIds: string[];
  filter: string;
}

/** What the form sends: the body of `POST /v1/gdapTemplates`, every field (SPEC §15.1). */
export interface TemplateBody {
  displayName: string;
  description: string | null;
  duration: string;
  autoExtendDuration: string;
  relationshipNamePrefix: string;
  accessAssignments: {
    accessContainer: { accessContainerId: string; accessContainerType: 'securityGroup' };
    accessDetails: { unifiedRoles: { roleDefinitionId: string }[] };
  }[];
}

let nextKey = 0;

/**
 * A template's fields and its security groups, each with the roles it gets (SPEC §15.1). The
 * service validates (built-in roles, GA cannot auto-extend, group ids, name unique); the form only
 * shapes the body and warns where the answer is known in advance.
 */
@customElement('template-form')
export class TemplateForm extends LitElement {
  @property({ attribute: false }) template?: Template;
  @property({ attribute: false }) catalog?: RoleCatalog;
  @property() submitLabel = 'Create template';
  @property({ type: Boolean }) busy = false;
  @property({ attribute: false }) save?: (body: TemplateBody) => void;

  @state() private displayName = '';
  @state() private description = '';
  @state() private days = '730';
  @state() private autoExtend = false;
  @state() private namePrefix = 'TPL';
  @state() private groups: GroupDraft[] = [{ key: nextKey++, groupId: '', roleIds: [], filter: '' }];

  protected createRenderRoot(): HTMLElement {
    return this;
  }

  connectedCallback(): void {
    super.connectedCallback();
    const template = this.template;
    if (!template) return;
    this.displayName = template.displayName;
    this.description = template.description ?? '';
    this.days = String(durationDays(template.duration) ?? template.duration);
    this.autoExtend = autoExtends(template.autoExtendDuration);
    this.namePrefix = template.relationshipNamePrefix;
    this.groups = template.accessAssignments.map((assignment) => ({
      key: nextKey++,
      groupId: assignment.accessContainer.accessContainerId,
      roleIds: assignment.accessDetails.unifiedRoles.map((role) => role.roleDefinitionId.toLowerCase()),
      filter: '',
    }));
  }

  private body(): TemplateBody {
    return {
      displayName: this.displayName.trim(),
      description: this.description.trim() || null,
      duration: `P${this.days.trim()}D`,
      autoExtendDuration: this.autoExtend ? 'P180D' : 'PT0S',
      relationshipNamePrefix: this.namePrefix.trim(),
      accessAssignments: this.groups.map((group) => ({
        accessContainer: { accessContainerId: group.groupId.trim(), accessContainerType: 'securityGroup' },
        accessDetails: { unifiedRoles: group.roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
      })),
    };
  }

  private submit(event: Event): void {
    event.preventDefault();
    this.save?.(this.body());
  }

  private updateGroup(key: number, change: Partial<GroupDraft>): void {
    this.groups = this.groups.map((group) => (group.key === key ? { ...group, ...change } : group));
  }

  private toggleRole(group: GroupDraft, roleId: string, on: boolean): void {
    const roleIds = group.roleIds.filter((id) => id !== roleId);
    this.updateGroup(group.key, { roleIds: on ? [...roleIds, roleId] : roleIds });
  }

  private removeGroup(key: number): void {
    this.groups = this.groups.filter((group) => group.key !== key);
  }

  private addGroup(): void {
    this.groups = [...this.groups, { key: nextKey++, groupId: '', roleIds: [], filter: '' }];
  }

  private renderGroup(group: GroupDraft, index: number): TemplateResult {
    const number = index + 1;
    const needle = group.filter.trim().toLowerCase();
    const roles = (this.catalog?.list ?? []).filter(
      (role) => !needle || role.displayName.toLowerCase().includes(needle) || group.roleIds.includes(role.id),
    );
    return html`<fieldset class="group card">
      <legend>Group ${number}</legend>
      <div class="toolbar">
        <label class="field"
          >Security group id
          <input
            type="text"
            class="mono"
            required
            spellcheck="false"
            placeholder="00000000-0000-0000-0000-000000000000"
            .value=${group.groupId}
            @input=${(event: Event) =>
              this.updateGroup(group.key, { groupId: (event.target as HTMLInputElement).value })}
        /></label>
        ${
          this.groups.length > 1
            ? html`<button type="button" @click=${() => this.removeGroup(group.key)}>Remove group ${number}</button>`
            : nothing
        }
      </div>
      <fieldset class="roles">
        <legend>Roles of group ${number}</legend>
        <p class="muted" aria-live="polite">
          ${group.roleIds.length ? `Chosen: ${roleNames(this.catalog, group.roleIds)}` : 'No role chosen yet.'}
        </p>
        <label class="field-inline"
          >Find a role
          <input
            type="search"
            .value=${group.filter}
            @input=${(event: Event) => this.updateGroup(group.key, { filter: (event.target as HTMLInputElement).value })}
        /></label>
        ${this.catalog?.error ? html`<p class="muted">${this.catalog.error}</p>` : nothing}
        <ul class="role-picker">
          ${roles.map(
            (role) =>
              html`<li>
                <label class="field-inline" title=${role.description}
                  ><input
                    type="checkbox"
                    .checked=${group.roleIds.includes(role.id)}
                    @change=${(event: Event) =>
                      this.toggleRole(group, role.id, (event.target as HTMLInputElement).checked)}
                  />${role.displayName}</label
                >
              </li>`,
          )}
        </ul>
      </fieldset>
    </fieldset>`;
  }

  render(): TemplateResult {
    const withGlobalAdministrator = this.groups.some((group) => group.roleIds.includes(knownRoles.globalAdministrator));
    return html`<form class="template-form" @submit=${(event: Event) => this.submit(event)}>
      <div class="toolbar">
        <label class="field"
          >Name
          <input
            type="text"
            required
            maxlength="50"
            .value=${this.displayName}
            @input=${(event: Event) => (this.displayName = (event.target as HTMLInputElement).value)}
        /></label>
        <label class="field"
          >Relationship name prefix
          <input
            type="text"
            required
            maxlength="12"
            .value=${this.namePrefix}
            @input=${(event: Event) => (this.namePrefix = (event.target as HTMLInputElement).value)}
        /></label>
        <label class="field"
          >Duration (days)
          <input
            type="number"
            required
            min="1"
            max="730"
            .value=${this.days}
            @input=${(event: Event) => (this.days = (event.target as HTMLInputElement).value)}
        /></label>
      </div>
      <label class="field"
        >Description (optional)
        <textarea
          rows="2"
          maxlength="1024"
          .value=${this.description}
          @input=${(event: Event) => (this.description = (event.target as HTMLTextAreaElement).value)}
        ></textarea>
      </label>
      <label class="field-inline"
        ><input
          type="checkbox"
          .checked=${this.autoExtend}
          @change=${(event: Event) => (this.autoExtend = (event.target as HTMLInputElement).checked)}
        />Auto-extend by 180 days at the end</label
      >
      ${
        withGlobalAdministrator && this.autoExtend
          ? html`<p class="warning">Global Administrator cannot auto-extend: remove it or switch auto-extend off.</p>`
          : nothing
      }
      <h2>Security groups and their roles</h2>
      <p class="lead">
        Each relationship made from this template asks for every role below; each group gets its roles once the customer
        approves.
      </p>
      ${this.groups.map((group, index) => this.renderGroup(group, index))}
      <div class="actions">
        <button type="button" @click=${() => this.addGroup()}>Add a security group</button>
        <button type="submit" class="primary" ?disabled=${this.busy}>${this.submitLabel}</button>
      </div>
    </form>`;
  }
}
