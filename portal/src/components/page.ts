import { html, LitElement, nothing, TemplateResult } from 'lit';
import { state } from 'lit/decorators.js';
import { errorMessage } from '../api';

export interface Status {
  kind: 'success' | 'info' | 'error';
  text: string;
  details?: string[];
  /** Where to see more (the job an action started, say). */
  link?: { href: string; text: string };
}

/** An action that asks first, in a modal dialog whose buttons name what happens. */
export interface Confirmation {
  title: string;
  body: string;
  confirmLabel: string;
  run: () => Promise<void>;
}

/** A status to show on the page navigated to next (a page that creates something and moves to it). */
let carried: Status | undefined;
export function reportOnNextPage(status: Status): void {
  carried = status;
}

/**
 * What every page shares: rendering into the document (so the one stylesheet applies and
 * labels, tables and landmarks stay plain HTML), the status text that reports each outcome, and
 * the confirmation dialog. Two live regions are always present, so screen readers announce what
 * appears in them.
 */
export class Page extends LitElement {
  @state() protected status?: Status;
  @state() protected confirmation?: Confirmation;
  @state() protected busy = false;
  /** Where focus goes back to when the dialog closes. */
  private confirmationOpener?: HTMLElement;

  protected createRenderRoot(): HTMLElement {
    return this;
  }

  connectedCallback(): void {
    super.connectedCallback();
    if (carried) [this.status, carried] = [carried, undefined];
  }

  protected report(kind: Status['kind'], text: string, details?: string[], link?: Status['link']): void {
    this.status = { kind, text, details, link };
  }

  protected reportError(prefix: string, error: unknown): void {
    this.report('error', `${prefix}: ${errorMessage(error)}`);
  }

  /** One action: says it is under way, then what came of it (the success text, or why it failed). */
  protected async act(action: { progress: string; run: () => Promise<string>; failure: string }): Promise<boolean> {
    this.busy = true;
    this.report('info', action.progress);
    try {
      this.report('success', await action.run());
      return true;
    } catch (error) {
      this.reportError(action.failure, error);
      return false;
    } finally {
      this.busy = false;
    }
  }

  protected confirm(confirmation: Confirmation): void {
    this.confirmationOpener = document.activeElement as HTMLElement | undefined;
    this.confirmation = confirmation;
  }

  private closeConfirmation(): void {
    this.confirmation = undefined;
    const opener = this.confirmationOpener;
    this.confirmationOpener = undefined;
    if (opener?.isConnected) opener.focus();
  }

  private async runConfirmed(confirmation: Confirmation): Promise<void> {
    this.closeConfirmation();
    this.busy = true;
    try {
      await confirmation.run();
    } finally {
      this.busy = false;
    }
  }

  protected renderConfirmation(): TemplateResult {
    const confirmation = this.confirmation;
    if (!confirmation) return html``;
    return html`<dialog aria-labelledby="confirm-title" @close=${() => this.closeConfirmation()}>
      <h2 id="confirm-title">${confirmation.title}</h2>
      <p>${confirmation.body}</p>
      <div class="actions">
        <button type="button" class="primary" @click=${() => this.runConfirmed(confirmation)}>
          ${confirmation.confirmLabel}
        </button>
        <button type="button" @click=${() => this.closeConfirmation()}>Cancel</button>
      </div>
    </dialog>`;
  }

  protected updated(): void {
    // Modal once rendered: focus moves into it, the page behind is inert, Escape closes it.
    const dialog = this.querySelector('dialog[aria-labelledby="confirm-title"]') as HTMLDialogElement | null;
    if (dialog && !dialog.open) dialog.showModal();
  }

  protected statusRegions(): TemplateResult {
    const status = this.status;
    const error = status?.kind === 'error';
    const message = status
      ? html`${status.text}${status.link ? html` <a href=${status.link.href}>${status.link.text}</a>` : nothing}${
          status.details?.length
            ? html`<ul>
                ${status.details.map((detail) => html`<li>${detail}</li>`)}
              </ul>`
            : nothing
        }`
      : nothing;
    // An empty region stays in the page (so what appears in it is announced) but takes no room.
    return html`<div class="status ${status && !error ? status.kind : 'idle'}" role="status">
        ${error ? nothing : message}
      </div>
      <div class="status ${error ? 'error' : 'idle'}" role="alert">${error ? message : nothing}</div>`;
  }
}
