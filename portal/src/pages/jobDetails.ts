import { html, nothing, TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { call, get, odataString } from '../api';
import { Page } from '../components/page';
import { NextLinkPages } from '../components/nextLinkPages';
import { dataTable } from '../components/parts';
import { Poller } from '../components/poller';
import { tenantInfo } from '../directory';
import {
  formatJobState,
  isJobActive,
  itemStates,
  Job,
  JobItem,
  jobKindLabel,
  jobPath,
  startJob,
  templateName,
} from '../fleet';
import { formatAutoExtend, formatDateTime, plural } from '../format';
import { jobProgress } from './jobs';

const pageSize = 50;

/** What a job's counts say, in words (SPEC §15.4: pending is queued, running and awaiting approval). */
function countsText(job: Job): string {
  const { total, succeeded, failed, pending, canceled } = job.counts;
  const parts = [`${succeeded} succeeded`, `${failed} failed`];
  if (canceled) parts.push(`${canceled} canceled`);
  parts.push(`${pending} pending`);
  return `${plural(total, 'item')}: ${parts.join(', ')}.`;
}

/**
 * One job (SPEC §15.4), live: its counts and the items page shown are read again while it runs
 * (every second while they change, less often while they do not), and the page says when it
 * ends. Cancel stops what is not done; Retry reruns the failed items; the items download as CSV
 * (invitation links to send, say).
 */
@customElement('job-page')
export class JobPage extends Page {
  @property() jobId = '';
  @state() private job?: Job;
  @state() private failed = false;
  @state() private items?: JobItem[];
  @state() private stateFilter = '';
  @state() private templateLabel?: string;
  @state() private names = new Map<string, string>();
  private readonly itemPages = new NextLinkPages<JobItem>(pageSize);
  /** Whether this page saw the job at work: its end is then announced. */
  private sawActive = false;
  private readonly poller = new Poller(async () => {
    const before = JSON.stringify([this.job, this.items]);
    await Promise.all([this.loadJob(), this.loadItems(this.itemPages.page)]);
    return {
      more: this.job ? isJobActive(this.job) : true,
      changed: JSON.stringify([this.job, this.items]) !== before,
    };
  });

  connectedCallback(): void {
    super.connectedCallback();
    void this.start();
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.poller.stop();
  }

  private get path(): string {
    return jobPath(this.jobId);
  }

  private async start(): Promise<void> {
    try {
      this.job = await get<Job>(this.path);
    } catch (error) {
      this.failed = true;
      this.reportError('The job could not be read', error);
      return;
    }
    const templateId = this.job.parameters.templateId;
    if (templateId) void templateName(templateId).then((name) => (this.templateLabel = name));
    await this.loadItems(0);
    this.watch();
  }

  private watch(): void {
    if (this.job && isJobActive(this.job)) {
      this.sawActive = true;
      this.poller.start();
    }
  }

  private async loadJob(): Promise<void> {
    const job = await get<Job>(this.path);
    const ended = this.sawActive && isJobActive(this.job as Job) && !isJobActive(job);
    this.job = job;
    if (ended) {
      const kind = job.status === 'succeeded' ? 'success' : job.status === 'canceled' ? 'info' : 'error';
      this.report(kind, `The job ended: ${formatJobState(job.status)}. ${countsText(job)}`);
    }
  }

  private itemsUrl(): string {
    const query = new URLSearchParams({ $top: String(pageSize) });
    if (this.stateFilter) query.set('$filter', `state eq ${odataString(this.stateFilter)}`);
    return `${this.path}/items?${query}`;
  }

  private async loadItems(page: number): Promise<void> {
    try {
      this.items = await this.itemPages.read(page, this.itemsUrl());
      void this.nameCustomers(this.items);
    } catch (error) {
      this.items ??= [];
      this.reportError("The job's items could not be read", error);
    }
  }

  private async nameCustomers(items: JobItem[]): Promise<void> {
    const ids = [...new Set(items.map((item) => item.customerTenantId).filter((id): id is string => Boolean(id)))];
    await Promise.all(
      ids
        .filter((id) => !this.names.has(id))
        .map(async (id) => {
          const info = await tenantInfo(id).catch(() => undefined);
          if (info?.displayName) this.names = new Map(this.names).set(id, info.displayName);
        }),
    );
  }

  private setFilter(value: string): void {
    this.stateFilter = value;
    void this.loadItems(0);
  }

  private async cancel(): Promise<void> {
    await this.act({
      progress: 'Canceling the job…',
      failure: 'The job was not canceled',
      run: async () => {
        await call('POST', `${this.path}/cancel`, { body: {} });
        return 'Cancel requested: items not yet done will not be acted on.';
      },
    });
    await this.refresh();
  }

  private async retry(): Promise<void> {
    const failed = this.job?.counts.failed ?? 0;
    await this.act({
      progress: `Retrying ${plural(failed, 'failed item')}…`,
      failure: 'The failed items were not retried',
      run: async () => {
        await startJob(`${this.path}/retry`);
        return `${plural(failed, 'failed item')} queued again.`;
      },
    });
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    await Promise.all([
      this.loadJob().catch((error) => this.reportError('The job could not be read', error)),
      this.loadItems(this.itemPages.page),
    ]);
    this.watch();
  }

  /** `Accept: text/csv` needs the token in a header, so the file is fetched here and handed to the browser. */
  private async downloadCsv(): Promise<void> {
    await this.act({
      progress: 'Preparing the CSV file…',
      failure: 'The items could not be exported',
      run: async () => {
        const answer = await call<string>('GET', `${this.path}/items`, { headers: { accept: 'text/csv' }, text: true });
        const url = URL.createObjectURL(new Blob([answer.body], { type: 'text/csv' }));
        const link = document.createElement('a');
        link.href = url;
        link.download = `gdapJob-${this.jobId}-items.csv`;
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        return `The items were exported as ${link.download}.`;
      },
    });
  }

  private renderTarget(item: JobItem): TemplateResult {
    if (item.relationshipId) {
      return html`<a class="mono" href="/portal/relationships/${encodeURIComponent(item.relationshipId)}"
          >${item.relationshipId}</a
        >${
          item.customerTenantId
            ? html`<div class="muted">${this.names.get(item.customerTenantId) ?? item.customerTenantId}</div>`
            : nothing
        }`;
    }
    const id = item.customerTenantId ?? '';
    const name = this.names.get(id);
    return html`${name ?? html`<span class="mono">${id}</span>`}${name ? html`<div class="muted mono">${id}</div>` : nothing}`;
  }

  private renderItem(item: JobItem): TemplateResult {
    return html`<tr>
      <td>${Number(item.id) + 1}</td>
      <td>${this.renderTarget(item)}</td>
      <td>${formatJobState(item.state)}</td>
      <td>${item.attempts}</td>
      <td>
        ${item.invitationUrl ? html`<a href=${item.invitationUrl}>Invitation link</a>` : html`<span class="muted">—</span>`}
      </td>
      <td>
        ${item.error ? html`<div>${item.error.message} <span class="muted">(${item.error.code})</span></div>` : nothing}
        ${(item.warnings ?? []).map((warning) => html`<div class="muted">${warning}</div>`)}
      </td>
    </tr>`;
  }

  private renderFacts(job: Job): TemplateResult {
    const { templateId, renew, thenAutoExtend, autoExtendDuration, force } = job.parameters;
    return html`<dl class="facts">
      <dt>Status</dt>
      <dd>${formatJobState(job.status)}</dd>
      <dt>Created</dt>
      <dd>${formatDateTime(job.createdDateTime)}</dd>
      <dt>Last change</dt>
      <dd>${formatDateTime(job.lastModifiedDateTime)}</dd>
      ${
        templateId
          ? html`<dt>Template</dt>
              <dd>
                <a href="/portal/templates/${encodeURIComponent(templateId)}">${this.templateLabel ?? 'Template'}</a>
              </dd>`
          : nothing
      }
      ${
        renew
          ? html`<dt>Renew</dt>
              <dd>Yes: relationships lacking the template's roles are replaced</dd>`
          : nothing
      }
      ${
        thenAutoExtend !== undefined
          ? html`<dt>Then auto-extend</dt>
              <dd>${thenAutoExtend ? 'Yes' : 'No'}</dd>`
          : nothing
      }
      ${
        autoExtendDuration
          ? html`<dt>Auto-extend</dt>
              <dd>${formatAutoExtend(autoExtendDuration)}</dd>`
          : nothing
      }
      ${
        force !== undefined
          ? html`<dt>Without GDAP coverage</dt>
              <dd>${force ? 'Removed anyway' : 'Not removed'}</dd>`
          : nothing
      }
    </dl>`;
  }

  render(): TemplateResult {
    const job = this.job;
    if (!job) {
      return html`<section>
        <h1 tabindex="-1">${this.failed ? 'Job not found' : 'Job'}</h1>
        <p><a href="/portal/jobs">All jobs</a></p>
        ${this.statusRegions()} ${this.failed ? nothing : html`<p class="muted">Loading…</p>`}
      </section>`;
    }
    const active = isJobActive(job);
    return html`<section>
      <h1 tabindex="-1">${jobKindLabel(job.kind)} job</h1>
      <p class="lead"><a href="/portal/jobs">All jobs</a></p>
      ${this.statusRegions()}
      <div class="card">
        ${this.renderFacts(job)}
        <div class="job-progress">
          ${jobProgress(job)}
          <p id="job-counts" aria-live="polite">${countsText(job)}</p>
          ${active ? html`<p class="muted">This page follows the job while it runs.</p>` : nothing}
        </div>
      </div>
      <div class="actions">
        ${
          active
            ? html`<button
                type="button"
                class="danger"
                ?disabled=${this.busy}
                @click=${() =>
                  this.confirm({
                    title: 'Cancel this job?',
                    body: `Its ${plural(job.counts.pending, 'pending item')} will not be acted on. What is done stays done.`,
                    confirmLabel: 'Cancel job',
                    run: () => this.cancel(),
                  })}
              >
                Cancel job
              </button>`
            : nothing
        }
        ${
          job.counts.failed > 0 && job.status !== 'canceled'
            ? html`<button type="button" ?disabled=${this.busy} @click=${() => void this.retry()}>
                Retry failed items
              </button>`
            : nothing
        }
        <button type="button" ?disabled=${this.busy} @click=${() => void this.downloadCsv()}>
          Download items as CSV
        </button>
        <button type="button" ?disabled=${this.busy} @click=${() => void this.refresh()}>Refresh</button>
      </div>
      <h2>Items</h2>
      <div class="toolbar">
        <label class="field"
          >State
          <select @change=${(event: Event) => this.setFilter((event.target as HTMLSelectElement).value)}>
            <option value="">All states</option>
            ${itemStates.map(
              (value) =>
                html`<option value=${value} ?selected=${value === this.stateFilter}>${formatJobState(value)}</option>`,
            )}
          </select>
        </label>
      </div>
      ${dataTable({
        caption: 'Items',
        headers: ['#', 'Target', 'State', 'Attempts', 'Invitation', 'Details'],
        rows: this.items,
        empty: this.stateFilter ? 'No item in this state.' : 'No items.',
        row: (item) => this.renderItem(item),
      })}
      ${this.itemPages.render((page) => void this.loadItems(page))} ${this.renderConfirmation()}
    </section>`;
  }
}
