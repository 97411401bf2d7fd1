import { html, TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { Collection, get, getAll, odataString } from '../api';
import { Page } from '../components/page';
import { dataTable, pager, roleSummary, rowsLabel } from '../components/parts';
import { RoleCatalog, roleCatalog } from '../directory';
import { formatAutoExtend, formatDate, formatStatus, plural } from '../format';
import { matchesSearch, Relationship, relationshipsPath, relationshipStatuses, roleIdsOf } from '../model';

const pageSize = 50;
/** The API's largest page, for reading everything a search looks through. */
const largestPage = 300;

/**
 * The partner's relationships (SPEC §17): a status filter the API applies, pages that follow
 * `@odata.nextLink`, and a search over relationship and customer names. The API has no
 * "contains" filter, so a search reads every relationship of the chosen status once and pages
 * through the matches here.
 */
@customElement('relationships-page')
export class RelationshipsPage extends Page {
  @state() private statusFilter = '';
  /** What the search box holds, and the search the rows shown come from (they differ while typing). */
  @state() private search = '';
  @state() private appliedSearch = '';
  @state() private loading = true;
  @state() private rows: Relationship[] = [];
  @state() private page = 0;
  @state() private hasNext = false;
  @state() private roles?: RoleCatalog;
  /** How many relationships match the search (all pages). */
  @state() private matchCount?: number;

  /** Server paging: the URL of each page visited, so "Previous" goes back without re-reading from the start. */
  private pageUrls: string[] = [];
  private nextUrl?: string;
  /** Search paging: every relationship of the chosen status, read once per status. */
  private everything?: { statusFilter: string; items: Relationship[] };
  private searchTimer?: number;
  private loadCount = 0;

  connectedCallback(): void {
    super.connectedCallback();
    void this.load(0);
    void roleCatalog().then((roles) => {
      this.roles = roles;
      if (roles.error) this.report('error', roles.error);
    });
  }

  private firstPageUrl(top: number): string {
    const query = new URLSearchParams({ $top: String(top) });
    if (this.statusFilter) query.set('$filter', `status eq ${odataString(this.statusFilter)}`);
    return `${relationshipsPath}?${query}`;
  }

  private async load(page: number): Promise<void> {
    const load = ++this.loadCount;
    const search = this.search.trim();
    clearTimeout(this.searchTimer);
    this.loading = true;
    try {
      if (search) await this.loadSearch(search, page, load);
      else await this.loadServerPage(page, load);
      if (load === this.loadCount) this.appliedSearch = search;
    } catch (error) {
      if (load === this.loadCount) this.reportError('The relationships could not be read', error);
    } finally {
      if (load === this.loadCount) this.loading = false;
    }
  }

  private async loadServerPage(page: number, load: number): Promise<void> {
    if (page === 0) this.pageUrls = [this.firstPageUrl(pageSize)];
    else if (page === this.pageUrls.length && this.nextUrl) this.pageUrls.push(this.nextUrl);
    const result = await get<Collection<Relationship>>(this.pageUrls[page]);
    if (load !== this.loadCount) return;
    this.rows = result.value;
    this.nextUrl = result['@odata.nextLink'];
    this.page = page;
    this.hasNext = Boolean(this.nextUrl);
  }

  private async loadSearch(search: string, page: number, load: number): Promise<void> {
    if (this.everything?.statusFilter !== this.statusFilter) {
      this.report('info', 'Searching all relationships…');
      const items = await getAll<Relationship>(this.firstPageUrl(largestPage));
      if (load !== this.loadCount) return;
      this.everything = { statusFilter: this.statusFilter, items };
      this.status = undefined;
    }
    const matches = this.everything.items.filter((item) => matchesSearch(item, search));
    this.rows = matches.slice(page * pageSize, (page + 1) * pageSize);
    this.page = page;
    this.hasNext = (page + 1) * pageSize < matches.length;
    this.matchCount = matches.length;
  }

  private setStatusFilter(value: string): void {
    this.statusFilter = value;
    void this.load(0);
  }

  private setSearch(value: string): void {
    this.search = value;
    clearTimeout(this.searchTimer);
    this.searchTimer = window.setTimeout(() => void this.load(0), 250);
  }

  private renderRow(relationship: Relationship): TemplateResult {
    return html`<tr>
      <td><a href="/portal/relationships/${encodeURIComponent(relationship.id)}">${relationship.displayName}</a></td>
      <td>
        ${relationship.customer?.displayName || html`<span class="muted">${relationship.customer?.tenantId ?? 'Any customer'}</span>`}
      </td>
      <td>${formatStatus(relationship.status)}</td>
      <td>${roleSummary(roleIdsOf(relationship), this.roles)}</td>
      <td class="nowrap">${formatDate(relationship.endDateTime)}</td>
      <td>${formatAutoExtend(relationship.autoExtendDuration)}</td>
    </tr>`;
  }

  /** Paging moves through what is shown; a search still being typed is applied first. */
  private go(delta: -1 | 1): void {
    if (this.search.trim() !== this.appliedSearch) void this.load(0);
    else void this.load(this.page + delta);
  }

  render(): TemplateResult {
    const searching = Boolean(this.appliedSearch);
    return html`<section>
      <h1 tabindex="-1">Relationships</h1>
      <p class="lead">Your organization's granular delegated admin (GDAP) relationships with customers.</p>
      <div class="toolbar" role="search">
        <label class="field"
          >Status
          <select @change=${(event: Event) => this.setStatusFilter((event.target as HTMLSelectElement).value)}>
            <option value="">All statuses</option>
            ${relationshipStatuses.map(
              (status) =>
                html`<option value=${status} ?selected=${status === this.statusFilter}>
                  ${formatStatus(status)}
                </option>`,
            )}
          </select>
        </label>
        <label class="field"
          >Search
          <input
            type="search"
            placeholder="Relationship or customer name"
            .value=${this.search}
            @input=${(event: InputEvent) => this.setSearch((event.target as HTMLInputElement).value)}
          />
        </label>
      </div>
      ${this.statusRegions()}
      ${dataTable({
        caption:
          searching && this.matchCount !== undefined
            ? `${plural(this.matchCount, 'relationship')} matching “${this.appliedSearch}”`
            : 'Relationships',
        headers: ['Name', 'Customer', 'Status', 'Roles', 'End date', 'Auto-extend'],
        // The rows shown stay while the next ones load; "Loading…" only when there are none yet.
        rows: this.loading && this.rows.length === 0 ? undefined : this.rows,
        busy: this.loading,
        empty: searching ? 'No relationship matches this search.' : 'No relationships.',
        row: (relationship) => this.renderRow(relationship),
      })}
      ${pager(
        {
          page: this.page,
          hasPrevious: this.page > 0,
          hasNext: this.hasNext,
          label: rowsLabel(this.page, pageSize, this.rows.length, searching ? this.matchCount : undefined),
        },
        (delta) => this.go(delta),
        this.loading,
      )}
    </section>`;
  }
}
