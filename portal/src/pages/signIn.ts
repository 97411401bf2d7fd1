import { html, nothing, TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { Page } from '../components/page';
import { signInWithEntra } from '../entraSignIn';
import { defaultEmail, newGuid, presetById, presets, sandboxSession } from '../sandboxSignIn';
import { startSession } from '../session';
import { settings } from '../settings';

const lastTenantKey = 'gdap-portal.lastTenantId';
const guidPattern = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/**
 * Sign-in (SPEC §17). In sandbox mode a picker: a tenant id, an optional e-mail and who to be; the
 * service mints the token. Otherwise Microsoft Entra sign-in. The page asked for stays the address,
 * so signing in lands on it.
 */
@customElement('sign-in-page')
export class SignInPage extends Page {
  @property() hint?: string;
  @property() suggestedPreset?: string;
  @state() private tenantId = localStorage.getItem(lastTenantKey) ?? newGuid();

  private async signInSandbox(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const tenantId = String(form.get('tenantId')).trim().toLowerCase();
    const email = String(form.get('email') ?? '').trim() || defaultEmail;
    const preset = presetById(String(form.get('preset')));
    if (!preset) return;
    this.busy = true;
    this.report('info', `Signing in as ${preset.label}…`);
    try {
      const next = await sandboxSession(preset, tenantId, email);
      localStorage.setItem(lastTenantKey, tenantId);
      startSession(next);
    } catch (error) {
      this.reportError('Sign-in failed', error);
    } finally {
      this.busy = false;
    }
  }

  private async signInEntra(): Promise<void> {
    const entra = settings().entra;
    if (!entra) return;
    this.busy = true;
    this.report('info', 'Opening Microsoft sign-in…');
    try {
      await signInWithEntra(entra, location.pathname + location.search);
    } catch (error) {
      this.busy = false;
      this.reportError('Sign-in failed', error);
    }
  }

  private renderPicker(): TemplateResult {
    const chosen = this.suggestedPreset ?? presets[0].id;
    return html`<form class="card" @submit=${(event: SubmitEvent) => this.signInSandbox(event)}>
      <p class="muted">
        Sandbox mode: choose who you are and the service signs a token for that person (<span class="mono"
          >POST /sandbox/tokens</span
        >). Use one tenant id for the partner and another for the customer.
      </p>
      <div class="row">
        <label class="field"
          >Tenant id
          <input
            type="text"
            name="tenantId"
            required
            pattern=${guidPattern}
            title="A tenant id is a GUID, such as 3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8"
            spellcheck="false"
            autocomplete="off"
            .value=${this.tenantId}
            @input=${(event: InputEvent) => (this.tenantId = (event.target as HTMLInputElement).value)}
        /></label>
        <button type="button" @click=${() => (this.tenantId = newGuid())}>New tenant id</button>
      </div>
      <label class="field"
        >E-mail (optional)
        <input type="email" name="email" placeholder=${defaultEmail} autocomplete="email" />
      </label>
      <label class="field"
        >Sign in as
        <select name="preset">
          ${presets.map((preset) => html`<option value=${preset.id} ?selected=${preset.id === chosen}>${preset.label}</option>`)}
        </select>
      </label>
      <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>Sign in</button></div>
    </form>`;
  }

  render(): TemplateResult {
    const { sandboxSignIn, entra } = settings();
    return html`<section class="sign-in">
      <h1 tabindex="-1">Sign in</h1>
      ${this.hint ? html`<p class="lead">${this.hint}</p>` : nothing} ${sandboxSignIn ? this.renderPicker() : nothing}
      ${
        entra
          ? html`<div class="card">
              <p>Sign in with your work account.</p>
              <button class="primary" type="button" ?disabled=${this.busy} @click=${() => this.signInEntra()}>
                Sign in with Microsoft
              </button>
            </div>`
          : nothing
      }
      ${
        !sandboxSignIn && !entra
          ? html`<p class="status error" role="alert">
              Sign-in is not configured: set PORTAL_CLIENT_ID (and PORTAL_AUTHORITY) to the portal's Microsoft Entra app
              registration.
            </p>`
          : nothing
      }
      ${this.statusRegions()}
    </section>`;
  }
}
