import { TemplateResult } from 'lit';
import { Collection, get } from '../api';
import { pager, rowsLabel } from './parts';

/**
 * A collection read from the service a page at a time, following `@odata.nextLink`. The URL of
 * each page visited is kept, so "Previous page" goes back without reading from the start again.
 */
export class NextLinkPages<T> {
  /** 0-based page last read. */
  page = 0;
  private shown = 0;
  private urls: string[] = [];
  private nextUrl?: string;

  constructor(readonly pageSize = 50) {}

  /** Page 0 starts at `firstUrl` (a new filter starts over); page n + 1 follows page n's nextLink. */
  async read(page: number, firstUrl: string): Promise<T[]> {
    if (page === 0) this.urls = [firstUrl];
    else if (page === this.urls.length && this.nextUrl) this.urls.push(this.nextUrl);
    const result = await get<Collection<T>>(this.urls[page] ?? firstUrl);
    this.nextUrl = result['@odata.nextLink'];
    this.page = page;
    this.shown = result.value.length;
    return result.value;
  }

  /** "Previous page", "Page 2 · rows 51–100", "Next page"; `go` reads the page asked for. */
  render(go: (page: number) => void, busy = false): TemplateResult {
    return pager(
      {
        page: this.page,
        hasPrevious: this.page > 0,
        hasNext: Boolean(this.nextUrl),
        label: rowsLabel(this.page, this.pageSize, this.shown),
      },
      (delta) => go(this.page + delta),
      busy,
    );
  }
}
