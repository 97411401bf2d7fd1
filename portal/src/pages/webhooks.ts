import { html, nothing, TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { ApiError, call, get } from '../api';
import { Page } from '../components/page';
import { dataTable } from '../components/parts';
import { Poller } from '../components/poller';
import { formatDateTime, plural } from '../format';
import { session } from '../session';

/** Partner Center's webhook shapes (SPEC §16), PascalCase as Partner Center answers. */
interface Registration {
  SubscriberId: string;
  WebhookUrl: string;
  WebhookEvents: string[];
  SignatureTokenToMsSignatureHeader?: boolean;
}

interface Attempt {
  responseCode: number | null;
  responseMessage: string | null;
  systemError: string | null;
  dateTimeUtc: string;
}

interface Validation {
  correlationId: string;
  status: 'Submitted' | 'completed' | 'failed';
  callbackUrl: string | null;
  results: Attempt[];
}

interface Delivery {
  eventId: string;
  eventName: string;
  resourceUri: string;
  status: string;
  attempts: number;
  lastAttemptDateTime: string | null;
  lastError: { responseCode?: number; message: string } | null;
}

const registrationPath = '/webhooks/v1/registration';
const testEvent = 'test-created';
const deliveryStatuses = ['failed', 'pending', 'delivered', 'skipped', 'canceled'] as const;

/** The validation events this tab asked for: the API reads one by its id and has no list of them. */
const validationsKey = 'gdap-portal.validations';
interface RequestedValidation {
  correlationId: string;
  requestedDateTime: string;
}
function requestedValidations(): RequestedValidation[] {
  const all = JSON.parse(sessionStorage.getItem(validationsKey) ?? '{}') as Record<string, RequestedValidation[]>;
  return all[session()?.claims.tid ?? ''] ?? [];
}
function rememberValidations(list: RequestedValidation[]): void {
  const all = JSON.parse(sessionStorage.getItem(validationsKey) ?? '{}') as Record<string, RequestedValidation[]>;
  all[session()?.claims.tid ?? ''] = list;
  sessionStorage.setItem(validationsKey, JSON.stringify(all));
}

const validationLabels: Record<Validation['status'], string> = {
  Submitted: 'Submitted',
  completed: 'Delivered',
  failed: 'Failed',
};

function attemptText(attempt: Attempt | undefined): string {
  if (!attempt) return '—';
  if (attempt.systemError) return attempt.systemError;
  return `HTTP ${attempt.responseCode}${attempt.responseMessage ? `: ${attempt.responseMessage}` : ''}`;
}

/**
 * The tenant's webhook registration (SPEC §16): the receiver's URL and the events it takes,
 * created, replaced or deleted; a test event (`test-created`) and each validation's attempts,
 * followed until it is delivered or fails; the deliveries that failed every attempt.
 */
@customElement('webhooks-page')
export class WebhooksPage extends Page {
  /** Undefined while loading; null when the tenant has none. */
  @state() private registration?: Registration | null;
  @state() private events: string[] = [];
  @state() private extensions = new Set<string>();
  @state() private url = '';
  @state() private chosen = new Set<string>();
  @state() private msSignatureHeader = false;
  @state() private validations: (RequestedValidation & { result?: Validation; error?: string })[] = [];
  @state() private deliveryStatus: (typeof deliveryStatuses)[number] = 'failed';
  @state() private deliveries?: Delivery[];
  private readonly poller = new Poller(async () => {
    const before = JSON.stringify(this.validations);
    await this.loadValidations();
    return {
      more: this.validations.some((item) => !item.result || item.result.status === 'Submitted'),
      changed: JSON.stringify(this.validations) !== before,
    };
  });

  connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.poller.stop();
  }

  private async load(): Promise<void> {
    try {
      const [events, registration] = await Promise.all([
        call<string[]>('GET', `${registrationPath}/events`),
        this.readRegistration(),
      ]);
      this.events = events.body;
      this.extensions = new Set(
        (events.headers.get('x-extension-events') ?? '')
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean),
      );
      this.showRegistration(registration);
    } catch (error) {
      this.registration ??= null;
      this.reportError('The webhook registration could not be read', error);
    }
    this.validations = requestedValidations();
    if (this.validations.length) {
      await this.loadValidations();
      this.poller.start();
    }
    await this.loadDeliveries();
  }

  /** The tenant's registration, or null when it has none (404). */
  private async readRegistration(): Promise<Registration | null> {
    try {
      return await get<Registration>(registrationPath);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  private showRegistration(registration: Registration | null): void {
    this.registration = registration;
    this.url = registration?.WebhookUrl ?? '';
    this.chosen = new Set(registration?.WebhookEvents ?? [testEvent]);
    this.msSignatureHeader = registration?.SignatureTokenToMsSignatureHeader ?? false;
  }

  private async loadValidations(): Promise<void> {
    this.validations = await Promise.all(
      this.validations.map(async (item) => {
        if (item.result && item.result.status !== 'Submitted') return item;
        try {
          const result = await get<Validation>(
            `${registrationPath}/validationEvents/${encodeURIComponent(item.correlationId)}`,
          );
          return { ...item, result, error: undefined };
        } catch (error) {
          return { ...item, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
  }

  private async loadDeliveries(): Promise<void> {
    try {
      const answer = await get<{ value: Delivery[] }>(
        `/webhooks/v1/deliveries?status=${encodeURIComponent(this.deliveryStatus)}`,
      );
      this.deliveries = answer.value;
    } catch (error) {
      this.deliveries ??= [];
      this.reportError('The deliveries could not be read', error);
    }
  }

  private toggleEvent(name: string, on: boolean): void {
    const next = new Set(this.chosen);
    if (on) next.add(name);
    else next.delete(name);
    this.chosen = next;
  }

  private chooseAll(names: string[], on: boolean): void {
    const next = new Set(this.chosen);
    names.forEach((name) => (on ? next.add(name) : next.delete(name)));
    this.chosen = next;
  }

  /** POST when the tenant has none (Partner Center answers 200), PUT to replace it. */
  private async save(event: Event): Promise<void> {
    event.preventDefault();
    const creating = !this.registration;
    const body = {
      WebhookUrl: this.url.trim(),
      // In the order the service lists them, so a saved registration reads as the picker shows it.
      WebhookEvents: this.events.filter((name) => this.chosen.has(name)),
      SignatureTokenToMsSignatureHeader: this.msSignatureHeader,
    };
    await this.act({
      progress: creating ? 'Creating the registration…' : 'Saving the registration…',
      failure: creating ? 'The registration was not created' : 'The registration was not saved',
      run: async () => {
        const answer = await call<Registration>(creating ? 'POST' : 'PUT', registrationPath, { body });
        this.showRegistration({ ...answer.body, SignatureTokenToMsSignatureHeader: this.msSignatureHeader });
        return `Registration ${creating ? 'created' : 'saved'}: ${plural(answer.body.WebhookEvents.length, 'event')} to ${answer.body.WebhookUrl}.`;
      },
    });
  }

  private async deleteRegistration(): Promise<void> {
    await this.act({
      progress: 'Deleting the registration…',
      failure: 'The registration was not deleted',
      run: async () => {
        await call('DELETE', registrationPath);
        this.showRegistration(null);
        return 'Registration deleted: no more events are sent.';
      },
    });
  }

  private async sendTest(): Promise<void> {
    await this.act({
      progress: 'Sending a test event…',
      failure: 'The test event was not sent',
      run: async () => {
        const answer = await call<{ correlationId: string }>('POST', `${registrationPath}/validationEvents`, {
          body: {},
        });
        const requested = { correlationId: answer.body.correlationId, requestedDateTime: new Date().toISOString() };
        rememberValidations([requested, ...requestedValidations()].slice(0, 20));
        this.validations = [requested, ...this.validations].slice(0, 20);
        this.poller.start();
        return `Test event sent (correlation id ${answer.body.correlationId}). Its delivery is followed below.`;
      },
    });
    await this.loadValidations();
  }

  private renderEventChoice(names: string[]): TemplateResult {
    return html`<ul class="event-picker">
      ${names.map(
        (name) =>
          html`<li>
            <label class="field-inline"
              ><input
                type="checkbox"
                .checked=${this.chosen.has(name)}
                @change=${(event: Event) => this.toggleEvent(name, (event.target as HTMLInputElement).checked)}
              /><span class="mono">${name}</span></label
            >
          </li>`,
      )}
    </ul>`;
  }

  private renderForm(): TemplateResult {
    const standard = this.events.filter((name) => !this.extensions.has(name));
    const own = this.events.filter((name) => this.extensions.has(name));
    const creating = !this.registration;
    return html`<form class="card stack" @submit=${(event: Event) => void this.save(event)}>
      <label class="field"
        >Receiver URL
        <input
          type="url"
          required
          placeholder="https://partner.example/webhooks"
          .value=${this.url}
          @input=${(event: Event) => (this.url = (event.target as HTMLInputElement).value)}
        />
      </label>
      <fieldset class="stack">
        <legend>Partner Center events</legend>
        <div class="actions">
          <button type="button" @click=${() => this.chooseAll(standard, true)}>Choose all Partner Center events</button>
          <button type="button" @click=${() => this.chooseAll(standard, false)}>Clear them</button>
        </div>
        ${this.renderEventChoice(standard)}
      </fieldset>
      ${
        own.length
          ? html`<fieldset class="stack">
              <legend>This service's own events</legend>
              <p class="muted">Not sent by Partner Center: auto-extension, expiry warnings, support access.</p>
              ${this.renderEventChoice(own)}
            </fieldset>`
          : nothing
      }
      <label class="field-inline"
        ><input
          type="checkbox"
          .checked=${this.msSignatureHeader}
          @change=${(event: Event) => (this.msSignatureHeader = (event.target as HTMLInputElement).checked)}
        />Send the signature in <span class="mono">x-ms-signature</span> instead of
        <span class="mono">Authorization</span></label
      >
      <p class="muted" aria-live="polite">${plural(this.chosen.size, 'event')} chosen.</p>
      <div class="actions">
        <button type="submit" class="primary" ?disabled=${this.busy}>
          ${creating ? 'Create registration' : 'Save registration'}
        </button>
        ${
          creating
            ? nothing
            : html`<button
                type="button"
                class="danger"
                ?disabled=${this.busy}
                @click=${() =>
                  this.confirm({
                    title: 'Delete the webhook registration?',
                    body: 'No more events will be sent to the receiver. Deliveries already failed stay listed.',
                    confirmLabel: 'Delete registration',
                    run: () => this.deleteRegistration(),
                  })}
              >
                Delete registration
              </button>`
        }
      </div>
    </form>`;
  }

  private renderValidations(): TemplateResult {
    const registration = this.registration;
    const canTest = Boolean(registration?.WebhookEvents.includes(testEvent));
    return html`<h2>Test events</h2>
      <p class="lead">
        A test event (<span class="mono">test-created</span>) checks that the receiver answers. At most two a minute.
      </p>
      <div class="actions">
        <button
          type="button"
          class="primary"
          ?disabled=${this.busy || !canTest}
          aria-describedby="test-hint"
          @click=${() => void this.sendTest()}
        >
          Send a test event
        </button>
        <span id="test-hint" class="muted"
          >${
            !registration
              ? 'Create a registration first.'
              : canTest
                ? `Sent to ${registration.WebhookUrl}.`
                : 'The registration must include test-created.'
          }</span
        >
      </div>
      ${dataTable({
        caption: 'Test events sent from this tab',
        headers: ['Requested', 'Correlation id', 'Status', 'Attempts', 'Last answer'],
        rows: this.validations,
        empty: 'No test event sent yet.',
        row: (item) => {
          const results = item.result?.results ?? [];
          return html`<tr>
            <td class="nowrap">${formatDateTime(item.requestedDateTime)}</td>
            <td class="mono">${item.correlationId}</td>
            <td>${item.result ? validationLabels[item.result.status] : item.error ? 'Unknown' : 'Submitted'}</td>
            <td>${results.length}</td>
            <td>${item.error ?? attemptText(results[results.length - 1])}</td>
          </tr>`;
        },
      })}`;
  }

  private renderDeliveries(): TemplateResult {
    return html`<h2>Deliveries</h2>
      <p class="lead">
        Each event is tried 10 times with growing waits; one that fails every time is listed here as failed.
      </p>
      <div class="toolbar">
        <label class="field"
          >Status
          <select
            @change=${(event: Event) => {
              this.deliveryStatus = (event.target as HTMLSelectElement).value as typeof this.deliveryStatus;
              void this.loadDeliveries();
            }}
          >
            ${deliveryStatuses.map(
              (status) =>
                html`<option value=${status} ?selected=${status === this.deliveryStatus}>
                  ${status[0].toUpperCase()}${status.slice(1)}
                </option>`,
            )}
          </select>
        </label>
        <button type="button" @click=${() => void this.loadDeliveries()}>Refresh deliveries</button>
      </div>
      ${dataTable({
        caption: `Deliveries: ${this.deliveryStatus}`,
        headers: ['Event', 'Resource', 'Attempts', 'Last attempt', 'Last error'],
        rows: this.deliveries,
        empty: this.deliveryStatus === 'failed' ? 'No failed deliveries.' : `No ${this.deliveryStatus} deliveries.`,
        row: (delivery) =>
          html`<tr>
            <td class="mono">${delivery.eventName}</td>
            <td class="mono">${delivery.resourceUri}</td>
            <td>${delivery.attempts}</td>
            <td class="nowrap">${formatDateTime(delivery.lastAttemptDateTime)}</td>
            <td>
              ${
                delivery.lastError
                  ? `${delivery.lastError.responseCode ? `HTTP ${delivery.lastError.responseCode}: ` : ''}${delivery.lastError.message}`
                  : '—'
              }
            </td>
          </tr>`,
      })}`;
  }

  render(): TemplateResult {
    return html`<section>
      <h1 tabindex="-1">Webhooks</h1>
      <p class="lead">
        Partner Center webhooks: events about relationships, assignments and support access are signed and sent to your
        receiver as they happen (CIPP's automated onboarding listens for
        <span class="mono">granular-admin-relationship-approved</span>).
      </p>
      ${this.statusRegions()}
      <h2>Registration</h2>
      ${
        this.registration === undefined
          ? html`<p class="muted">Loading…</p>`
          : html`${
              this.registration
                ? html`<p>Subscriber id <span class="mono">${this.registration.SubscriberId}</span></p>`
                : html`<p>This tenant has no webhook registration yet.</p>`
            }
            ${this.renderForm()}`
      }
      ${this.renderValidations()} ${this.renderDeliveries()} ${this.renderConfirmation()}
    </section>`;
  }
}
