import { html, nothing, TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { Page, reportOnNextPage } from '../components/page';
import { NextLinkPages } from '../components/nextLinkPages';
import { dataTable } from '../components/parts';
import { Poller } from '../components/poller';
import {
  formatJobState,
  isJobActive,
  Job,
  jobKindLabel,
  jobsPath,
  parseIdList,
  startJob,
  templateName,
} from '../fleet';
import { formatDateTime, plural } from '../format';
import { navigate } from '../router';

const pageSize = 50;

/** A job's progress bar and its words: settled items of all. */
export function jobProgress(job: Job): TemplateResult {
  const { total, pending } = job.counts;
  const done = total - pending;
  return html`<span class="progress"
    ><progress max=${Math.max(total, 1)} .value=${done} aria-label="${done} of ${total} items done"></progress>
    <span>${done} of ${total} done</span></span
  >`;
}

/**
 * The partner's bulk jobs (SPEC §15.4), newest first, with their progress, read again while any of
 * them is at work.
 */
@customElement('jobs-page')
export class JobsPage extends Page {
  @state() private rows?: Job[];
  @state() private templates = new Map<string, string>();
  private readonly pages = new NextLinkPages<Job>(pageSize);
  private readonly poller = new Poller(async () => {
    const before = JSON.stringify(this.rows);
    await this.load(this.pages.page);
    return { more: (this.rows ?? []).some(isJobActive), changed: JSON.stringify(this.rows) !== before };
  });

  connectedCallback(): void {
    super.connectedCallback();
    void this.load(0);
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.poller.stop();
  }

  private async load(page: number): Promise<void> {
    try {
      this.rows = await this.pages.read(page, `${jobsPath}?$top=${pageSize}`);
      if (this.status?.kind === 'error') this.status = undefined;
      for (const job of this.rows) {
        const id = job.parameters.templateId;
        if (id && !this.templates.has(id)) {
          void templateName(id).then((name) => (this.templates = new Map(this.templates).set(id, name)));
        }
      }
      if (this.rows.some(isJobActive)) this.poller.start();
    } catch (error) {
      this.rows ??= [];
      this.reportError('The jobs could not be read', error);
    }
  }

  private renderRow(job: Job): TemplateResult {
    const templateId = job.parameters.templateId;
    return html`<tr>
      <td>
        <a href="/portal/jobs/${encodeURIComponent(job.id)}">${jobKindLabel(job.kind)}</a>
        ${
          templateId
            ? html`<div class="muted">
                <a href="/portal/templates/${encodeURIComponent(templateId)}"
                  >${this.templates.get(templateId) ?? 'Template'}</a
                >
              </div>`
            : nothing
        }
      </td>
      <td>${formatJobState(job.status)}</td>
      <td>${jobProgress(job)}</td>
      <td>${job.counts.succeeded}</td>
      <td>${job.counts.failed}</td>
      <td class="nowrap">${formatDateTime(job.createdDateTime)}</td>
    </tr>`;
  }

  render(): TemplateResult {
    return html`<section>
      <h1 tabindex="-1">Jobs</h1>
      <p class="lead">
        Every bulk action is a job: template assignments and reconciles, and the fleet actions below. Jobs run in the
        background; open one to watch it, cancel it or retry what failed.
      </p>
      <div class="toolbar">
        <a class="button primary" href="/portal/jobs/new">New job</a>
        <a href="/portal/templates">GDAP templates</a>
      </div>
      ${this.statusRegions()}
      ${dataTable({
        caption: 'Jobs, newest first',
        headers: ['Job', 'Status', 'Progress', 'Succeeded', 'Failed', 'Created'],
        rows: this.rows,
        empty: 'No jobs yet.',
        row: (job) => this.renderRow(job),
      })}
      ${this.pages.render((page) => void this.load(page))}
    </section>`;
  }
}

interface KindChoice {
  kind: 'removeGlobalAdministrator' | 'setAutoExtend' | 'terminate' | 'removeDap';
  label: string;
  help: string;
  targets: 'relationshipIds' | 'customerTenantIds';
}

const kinds: KindChoice[] = [
  {
    kind: 'removeGlobalAdministrator',
    label: 'Remove Global Administrator',
    help: 'Removes Global Administrator from each active relationship (its other roles stay), so it can auto-extend.',
    targets: 'relationshipIds',
  },
  {
    kind: 'setAutoExtend',
    label: 'Set auto-extend',
    help: 'Switches auto-extend on (180 days) or off on each active relationship.',
    targets: 'relationshipIds',
  },
  {
    kind: 'terminate',
    label: 'Terminate relationships',
    help: 'Ends each relationship at once (offboarding). Partner users lose their access to those customers.',
    targets: 'relationshipIds',
  },
  {
    kind: 'removeDap',
    label: 'Remove DAP',
    help: 'Removes the DAP of each customer, only where an active GDAP relationship with an active assignment covers it.',
    targets: 'customerTenantIds',
  },
];

/** A fleet job (SPEC §15.4) on up to 10,000 relationships or customers pasted as a list. */
@customElement('new-job-page')
export class NewJobPage extends Page {
  @state() private kind: KindChoice = kinds[0];
  @state() private targetsText = '';
  @state() private thenAutoExtend = false;
  @state() private autoExtendOn = true;
  @state() private force = false;

  private body(ids: string[]): Record<string, unknown> {
    const body: Record<string, unknown> = { kind: this.kind.kind, [this.kind.targets]: ids };
    if (this.kind.kind === 'removeGlobalAdministrator') body.thenAutoExtend = this.thenAutoExtend;
    if (this.kind.kind === 'setAutoExtend') body.autoExtendDuration = this.autoExtendOn ? 'P180D' : 'PT0S';
    if (this.kind.kind === 'removeDap') body.force = this.force;
    return body;
  }

  private submit(event: Event): void {
    event.preventDefault();
    const { ids } = parseIdList(this.targetsText);
    const what = this.kind.targets === 'relationshipIds' ? 'relationship' : 'customer';
    if (ids.length === 0) {
      this.report('error', `Paste at least one ${what} id.`);
      return;
    }
    const run = () => this.create(ids);
    if (this.kind.kind === 'terminate' || (this.kind.kind === 'removeDap' && this.force)) {
      this.confirm({
        title: this.kind.kind === 'terminate' ? 'Terminate relationships?' : 'Remove DAP without GDAP coverage?',
        body:
          this.kind.kind === 'terminate'
            ? `${plural(ids.length, 'relationship')} will end at once; partner users lose access to those customers.`
            : `The DAP of ${plural(ids.length, 'customer')} will be removed even where no GDAP relationship covers it: partner users may lose all access to them.`,
        confirmLabel: this.kind.kind === 'terminate' ? 'Terminate' : 'Remove DAP',
        run,
      });
      return;
    }
    void run();
  }

  private async create(ids: string[]): Promise<void> {
    let job: string | undefined;
    await this.act({
      progress: `Starting a ${this.kind.label} job…`,
      failure: 'The job was not started',
      run: async () => {
        job = await startJob(jobsPath, this.body(ids));
        return 'Started.';
      },
    });
    if (!job) return;
    const what = this.kind.targets === 'relationshipIds' ? 'relationship' : 'customer';
    reportOnNextPage({ kind: 'success', text: `${this.kind.label}: a job on ${plural(ids.length, what)} started.` });
    navigate(`/portal/jobs/${encodeURIComponent(job)}`);
  }

  private renderKindOptions(): TemplateResult {
    switch (this.kind.kind) {
      case 'removeGlobalAdministrator':
        return html`<label class="field-inline"
          ><input
            type="checkbox"
            .checked=${this.thenAutoExtend}
            @change=${(event: Event) => (this.thenAutoExtend = (event.target as HTMLInputElement).checked)}
          />Then switch auto-extend on (180 days)</label
        >`;
      case 'setAutoExtend':
        return html`<fieldset class="choice">
          <legend>Auto-extend</legend>
          <label class="field-inline"
            ><input
              type="radio"
              name="auto-extend"
              .checked=${this.autoExtendOn}
              @change=${() => (this.autoExtendOn = true)}
            />On (180 days)</label
          >
          <label class="field-inline"
            ><input
              type="radio"
              name="auto-extend"
              .checked=${!this.autoExtendOn}
              @change=${() => (this.autoExtendOn = false)}
            />Off</label
          >
        </fieldset>`;
      case 'removeDap':
        return html`<label class="field-inline"
            ><input
              type="checkbox"
              .checked=${this.force}
              @change=${(event: Event) => (this.force = (event.target as HTMLInputElement).checked)}
            />Remove it even without GDAP coverage</label
          >
          ${
            this.force
              ? html`<p class="warning">
                  Without an active GDAP relationship and assignment, partner users lose their access to that customer.
                </p>`
              : nothing
          }`;
      default:
        return html``;
    }
  }

  render(): TemplateResult {
    const targetsLabel = this.kind.targets === 'relationshipIds' ? 'Relationship ids' : 'Customer tenant ids';
    return html`<section>
      <h1 tabindex="-1">New job</h1>
      <p class="lead"><a href="/portal/jobs">All jobs</a></p>
      <form class="card stack" @submit=${(event: Event) => this.submit(event)}>
        <fieldset class="stack">
          <legend>What the job does</legend>
          ${kinds.map(
            (choice) =>
              html`<label class="field-inline"
                ><input
                  type="radio"
                  name="kind"
                  .checked=${this.kind === choice}
                  @change=${() => (this.kind = choice)}
                />${choice.label}</label
              >`,
          )}
        </fieldset>
        <p class="muted">${this.kind.help}</p>
        <label class="field"
          >${targetsLabel}
          <textarea
            rows="6"
            class="mono"
            spellcheck="false"
            aria-describedby="targets-hint"
            .value=${this.targetsText}
            @input=${(event: Event) => (this.targetsText = (event.target as HTMLTextAreaElement).value)}
          ></textarea>
        </label>
        <p id="targets-hint" class="muted">One a line, or separated by commas or spaces; up to 10,000.</p>
        ${this.renderKindOptions()}
        <div class="actions">
          <button type="submit" class="primary" ?disabled=${this.busy}>Start job</button>
        </div>
      </form>
      ${this.statusRegions()} ${this.renderConfirmation()}
    </section>`;
  }
}
