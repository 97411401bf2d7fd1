import { html, nothing, TemplateResult } from 'lit';
import { RoleCatalog, roleName } from '../directory';

/** Small pieces of markup several pages share. */

/** Role names, the first few in full and a count of the rest (the details page lists them all). */
export function roleSummary(roleIds: string[], catalog: RoleCatalog | undefined, shown = 3): TemplateResult {
  const names = roleIds.map((id) => roleName(catalog, id));
  const rest = names.length - shown;
  return html`${names.slice(0, shown).join(', ')}${rest > 0 ? html` <span class="muted">and ${rest} more</span>` : nothing}`;
}

export interface PagerState {
  /** 0-based page shown. */
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  /** "Rows 51–100" or "Rows 51–100 of 240". */
  label: string;
}

export function pager(state: PagerState, go: (delta: -1 | 1) => void, busy = false): TemplateResult {
  return html`<nav class="pager" aria-label="Pages">
    <button type="button" ?disabled=${busy || !state.hasPrevious} @click=${() => go(-1)}>Previous page</button>
    <span aria-live="polite">Page ${state.page + 1} · ${state.label}</span>
    <button type="button" ?disabled=${busy || !state.hasNext} @click=${() => go(1)}>Next page</button>
  </nav>`;
}

export function rowsLabel(page: number, pageSize: number, shown: number, total?: number): string {
  if (shown === 0) return 'no rows';
  const first = page * pageSize + 1;
  const last = page * pageSize + shown;
  return `rows ${first}–${last}${total !== undefined ? ` of ${total}` : ''}`;
}

export interface DataTable<T> {
  /** Names the table for everyone (a caption is what screen readers announce with it). */
  caption?: string;
  /** Column headers: text, or a ready-made `<th>` (a select-all checkbox, say). */
  headers: (string | TemplateResult)[];
  /** Undefined while loading. */
  rows: readonly T[] | undefined;
  /** What an empty table says. */
  empty: string;
  row: (item: T) => TemplateResult;
  busy?: boolean;
}

/** A table with column headers, a loading line and an empty line: the shape of every list in the portal. */
export function dataTable<T>(table: DataTable<T>): TemplateResult {
  const line = (text: string) =>
    html`<tr>
      <td class="empty" colspan=${table.headers.length}>${text}</td>
    </tr>`;
  return html`<div class="table-wrap">
    <table aria-busy=${table.busy || table.rows === undefined ? 'true' : 'false'}>
      ${
        table.caption !== undefined
          ? html`<caption>
              ${table.caption}
            </caption>`
          : nothing
      }
      <thead>
        <tr>
          ${table.headers.map((header) => (typeof header === 'string' ? html`<th scope="col">${header}</th>` : header))}
        </tr>
      </thead>
      <tbody>
        ${table.rows === undefined ? line('Loading…') : table.rows.length === 0 ? line(table.empty) : table.rows.map(table.row)}
      </tbody>
    </table>
  </div>`;
}

/** Roles with their names and descriptions from roleDefinitions (the id where the catalog does not know it). */
export function roleTable(
  roleIds: string[],
  catalog: RoleCatalog | undefined,
  descriptionHeader = 'Description',
): TemplateResult {
  return html`${catalog?.error ? html`<p class="muted">${catalog.error}</p>` : nothing}
  ${dataTable({
    headers: ['Role', descriptionHeader],
    rows: roleIds,
    empty: 'No roles.',
    row: (id) =>
      html`<tr>
        <td>${roleName(catalog, id)}</td>
        <td>${catalog?.roles.get(id)?.description ?? html`<span class="muted mono">${id}</span>`}</td>
      </tr>`,
  })}`;
}
