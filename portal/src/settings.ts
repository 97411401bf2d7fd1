/** What /portal/config.json tells the page before anyone signs in (functions/portal.ts). */
export interface EntraSettings {
  clientId: string;
  authority: string;
  /** The API's scopes, e.g. `https://graph.microsoft.com/.default` for AUTH_AUDIENCE. */
  scopes: string[];
}

export interface PortalSettings {
  sandbox: boolean;
  /** The sandbox picker, which mints through POST /sandbox/tokens (off once real keys are configured). */
  sandboxSignIn: boolean;
  entra: EntraSettings | null;
}

let loaded: PortalSettings | undefined;

export async function loadSettings(): Promise<PortalSettings> {
  if (loaded) return loaded;
  const response = await fetch('/portal/config.json', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`The portal's settings could not be read (HTTP ${response.status}).`);
  loaded = (await response.json()) as PortalSettings;
  return loaded;
}

export function settings(): PortalSettings {
  if (!loaded) throw new Error('Settings are read at start-up, before any page renders.');
  return loaded;
}
