import { html, nothing, TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { ApiError, call, errorMessage, get, getAll } from '../api';
import { Page } from '../components/page';
import { dataTable, pager, rowsLabel } from '../components/parts';
import { weeklyBuckets, weeklyChart } from '../components/weeklyChart';
import { RoleCatalog, roleCatalog, roleName, serviceNow } from '../directory';
import { addDays, autoExtends, daysUntil, formatAutoExtend, formatDate, plural } from '../format';
import {
  hasGlobalAdministrator,
  matchesSearch,
  partnerTenantOf,
  Relationship,
  relationshipsPath,
  removeRoles,
  roleIdsOf,
} from '../model';
import { roleIds } from '../roleIds';
import { session } from '../session';

const windows = [30, 60, 90] as const;
const pageSize = 50;
/** bulkAutoExtend takes at most 25 relationships a call (SPEC §9); the page sends as many calls as needed. */
const bulkLimit = 25;
const parallelCalls = 3;

interface BulkResult {
  id: string;
  status: 'succeeded' | 'failed';
  error?: { code: string; message: string };
}

/**
 * "Expiring granular relationships" (SPEC §17, the seed's page): active relationships ending
 * within 30, 60 or 90 days that will not auto-extend (or also those that will), chosen one by one
 * or all at once, with auto-extend switched on or off for any number of them. A relationship with
 * Global Administrator cannot auto-extend; the page says so and offers to remove that role.
 */
@customElement('expiring-page')
export class ExpiringPage extends Page {
  @state() private allowed?: boolean;
  @state() private days: (typeof windows)[number] = 30;
  @state() private includeExtending = false;
  @state() private search = '';
  @state() private page = 0;
  @state() private loading = true;
  @state() private selected = new Set<string>();
  @state() private roles?: RoleCatalog;
  @state() private now = new Date();
  /** Every active relationship ending within 90 days; the choices above filter it here. */
  @state() private ending: Relationship[] = [];

  connectedCallback(): void {
    super.connectedCallback();
    void roleCatalog().then((roles) => (this.roles = roles));
    void this.start();
  }

  /** The analytics endpoint admits exactly the people this page is for: GA or Admin Agent of the partner. */
  private async start(): Promise<void> {
    try {
      await get('/v1.0/analytics/delegatedAdminRelationships');
      this.allowed = true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) {
        this.allowed = false;
        this.loading = false;
        return;
      }
      this.allowed = true;
    }
    await this.load();
  }

  private async load(): Promise<void> {
    this.loading = true;
    try {
      this.now = await serviceNow();
      const until = addDays(this.now, 90).toISOString();
      const filter = `status eq 'active' and endDateTime le ${until}`;
      const listed = await getAll<Relationship>(
        `${relationshipsPath}?${new URLSearchParams({ $filter: filter, $orderby: 'endDateTime', $top: '300' })}`,
      );
      // A tenant that is also someone's customer sees those relationships too; this page is the partner's.
      const partnerTenantId = session()?.claims.tid.toLowerCase();
      this.ending = listed.filter((item) => partnerTenantOf(item.id) === partnerTenantId);
      const present = new Set(this.ending.map((item) => item.id));
      this.selected = new Set([...this.selected].filter((id) => present.has(id)));
    } catch (error) {
      this.reportError('The relationships could not be read', error);
    } finally {
      this.loading = false;
    }
  }

  private get shown(): Relationship[] {
    const until = addDays(this.now, this.days).getTime();
    return this.ending.filter(
      (relationship) =>
        new Date(relationship.endDateTime ?? 0).getTime() <= until &&
        (this.includeExtending || !autoExtends(relationship.autoExtendDuration)) &&
        matchesSearch(relationship, this.search),
    );
  }

  private choose(update: () => void): void {
    update();
    this.page = 0;
  }

  private toggle(id: string, on: boolean): void {
    const next = new Set(this.selected);
    if (on) next.add(id);
    else next.delete(id);
    this.selected = next;
  }

  private toggleAll(rows: Relationship[], on: boolean): void {
    const next = new Set(this.selected);
    rows.forEach((row) => (on ? next.add(row.id) : next.delete(row.id)));
    this.selected = next;
  }

  /** Auto-extend on or off for every selected relationship, 25 per bulkAutoExtend call, a few calls at a time. */
  private async setAutoExtend(enable: boolean): Promise<void> {
    const ids = [...this.selected];
    if (!ids.length) return;
    const verb = enable ? 'enabled' : 'disabled';
    this.busy = true;
    this.report('info', `${enable ? 'Enabling' : 'Disabling'} auto-extend on ${plural(ids.length, 'relationship')}…`);
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += bulkLimit) chunks.push(ids.slice(i, i + bulkLimit));
    const results: BulkResult[] = [];
    const callFailures: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const chunk = chunks[next++];
        try {
          const answer = await call<{ results: BulkResult[] }>('POST', '/v1.0/tenantRelationships/bulkAutoExtend', {
            body: { relationshipIds: chunk, autoExtendDuration: enable ? 'P180D' : 'PT0S' },
          });
          results.push(...answer.body.results);
        } catch (error) {
          callFailures.push(errorMessage(error));
          chunk.forEach((id) =>
            results.push({ id, status: 'failed', error: { code: 'callFailed', message: errorMessage(error) } }),
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallelCalls, chunks.length) }, worker));
    const names = new Map(this.ending.map((item) => [item.id, item.displayName]));
    const failed = results.filter((result) => result.status === 'failed');
    const succeeded = results.length - failed.length;
    if (failed.length === 0) {
      this.report('success', `Auto-extend ${verb} on ${plural(succeeded, 'relationship')}.`);
    } else if (callFailures.length && succeeded === 0) {
      this.report('error', `Auto-extend was not ${verb}: ${[...new Set(callFailures)].join(' ')}`);
    } else {
      this.report(
        'error',
        `Auto-extend ${verb} on ${plural(succeeded, 'relationship')}; ${failed.length} failed.`,
        failed.map((result) => `${names.get(result.id) ?? result.id}: ${result.error?.message ?? 'failed'}`),
      );
    }
    this.selected = new Set(failed.map((result) => result.id));
    this.busy = false;
    await this.load();
  }

  /** Without Global Administrator an active relationship may auto-extend (SPEC §2.1, §2.2). */
  private async removeGlobalAdministrator(relationship: Relationship): Promise<void> {
    await this.act({
      progress: `Removing Global Administrator from ${relationship.displayName}…`,
      failure: `Global Administrator was not removed from ${relationship.displayName}`,
      run: async () => {
        await removeRoles(relationship.id, [roleIds.globalAdministrator]);
        return `Global Administrator removed from ${relationship.displayName}. It can auto-extend now: select it and choose Enable auto-extend.`;
      },
    });
    await this.load();
  }

  private renderRow(relationship: Relationship): TemplateResult {
    const withGlobalAdministrator = hasGlobalAdministrator(relationship);
    const others = roleIdsOf(relationship).filter((id) => id !== roleIds.globalAdministrator);
    return html`<tr>
      <td class="select">
        <input
          type="checkbox"
          aria-label="Select ${relationship.displayName}"
          .checked=${this.selected.has(relationship.id)}
          @change=${(event: Event) => this.toggle(relationship.id, (event.target as HTMLInputElement).checked)}
        />
      </td>
      <td><a href="/portal/relationships/${encodeURIComponent(relationship.id)}">${relationship.displayName}</a></td>
      <td>${relationship.customer?.displayName || relationship.customer?.tenantId || '—'}</td>
      <td class="nowrap">${formatDate(relationship.endDateTime)}</td>
      <td>${relationship.endDateTime ? plural(daysUntil(relationship.endDateTime, this.now), 'day') : '—'}</td>
      <td>${formatAutoExtend(relationship.autoExtendDuration)}</td>
      <td>
        ${
          withGlobalAdministrator
            ? html`<div class="cannot-extend">
                <span>Includes Global Administrator, so it cannot auto-extend.</span>
                ${
                  others.length
                    ? html`<button
                        type="button"
                        class="danger"
                        ?disabled=${this.busy}
                        aria-label="Remove Global Administrator from ${relationship.displayName}"
                        @click=${() =>
                          this.confirm({
                            title: 'Remove Global Administrator?',
                            body: `${relationship.displayName} keeps its other roles; partner users lose Global Administrator in ${relationship.customer?.displayName || 'this customer'} at once. Without it the relationship can auto-extend.`,
                            confirmLabel: 'Remove Global Administrator',
                            run: () => this.removeGlobalAdministrator(relationship),
                          })}
                      >
                        Remove Global Administrator
                      </button>`
                    : html`<span class="muted">It is its only role: ask for a new relationship without it.</span>`
                }
              </div>`
            : html`${others
                .map((id) => roleName(this.roles, id))
                .slice(0, 2)
                .join(', ')}${
                others.length > 2 ? html` <span class="muted">and ${others.length - 2} more</span>` : nothing
              }`
        }
      </td>
    </tr>`;
  }

  render(): TemplateResult {
    if (this.allowed === false) {
      return html`<section>
        <h1 tabindex="-1">Expiring granular relationships</h1>
        <p class="status error" role="alert">
          This page needs the Global Administrator or Admin Agent role in the partner tenant. Ask an administrator of
          your organization for one of them.
        </p>
      </section>`;
    }
    const shown = this.shown;
    const rows = shown.slice(this.page * pageSize, (this.page + 1) * pageSize);
    const allOnPage = rows.length > 0 && rows.every((row) => this.selected.has(row.id));
    const chartSource = this.ending.map((item) => ({
      endDateTime: item.endDateTime ?? '',
      extends: autoExtends(item.autoExtendDuration),
    }));
    return html`<section>
      <h1 tabindex="-1">Expiring granular relationships</h1>
      <p class="lead">
        Active relationships ending soon. Turn auto-extend on to extend one by 180 days at its end (no customer consent
        needed, no e-mail sent); relationships with Global Administrator cannot auto-extend.
      </p>
      ${this.loading && this.ending.length === 0 ? nothing : weeklyChart(weeklyBuckets(this.now, 90, chartSource), this.includeExtending)}
      <div class="toolbar">
        <fieldset class="choice">
          <legend>Ending within</legend>
          ${windows.map(
            (days) =>
              html`<label class="field-inline"
                ><input
                  type="radio"
                  name="window"
                  .checked=${this.days === days}
                  @change=${() => this.choose(() => (this.days = days))}
                />${days} days</label
              >`,
          )}
        </fieldset>
        <label class="field-inline"
          ><input
            type="checkbox"
            .checked=${this.includeExtending}
            @change=${(event: Event) => this.choose(() => (this.includeExtending = (event.target as HTMLInputElement).checked))}
          />Include auto-extending</label
        >
        <label class="field-inline"
          >Search
          <input
            type="search"
            placeholder="Relationship or customer name"
            .value=${this.search}
            @input=${(event: InputEvent) => this.choose(() => (this.search = (event.target as HTMLInputElement).value))}
        /></label>
      </div>
      <div class="toolbar">
        <div class="actions">
          <button
            type="button"
            class="primary"
            ?disabled=${this.busy || this.selected.size === 0}
            @click=${() => this.setAutoExtend(true)}
          >
            Enable auto-extend
          </button>
          <button
            type="button"
            ?disabled=${this.busy || this.selected.size === 0}
            @click=${() => this.setAutoExtend(false)}
          >
            Disable auto-extend
          </button>
          <span aria-live="polite">${plural(this.selected.size, 'relationship')} selected</span>
        </div>
      </div>
      ${this.statusRegions()}
      ${dataTable({
        caption: `${plural(shown.length, 'relationship')} ending within ${this.days} days${this.includeExtending ? '' : ' that will not auto-extend'}`,
        headers: [
          html`<th scope="col" class="select">
            <input
              type="checkbox"
              aria-label="Select all on this page"
              .checked=${allOnPage}
              ?disabled=${rows.length === 0}
              @change=${(event: Event) => this.toggleAll(rows, (event.target as HTMLInputElement).checked)}
            />
          </th>`,
          'Name',
          'Customer',
          'End date',
          'Days left',
          'Auto-extend',
          'Roles',
        ],
        rows: this.loading && rows.length === 0 ? undefined : rows,
        busy: this.loading,
        empty: 'No relationship ends in this period.',
        row: (row) => this.renderRow(row),
      })}
      ${pager(
        {
          page: this.page,
          hasPrevious: this.page > 0,
          hasNext: (this.page + 1) * pageSize < shown.length,
          label: rowsLabel(this.page, pageSize, rows.length, shown.length),
        },
        (delta) => (this.page += delta),
      )}
      ${this.renderConfirmation()}
    </section>`;
  }
}
