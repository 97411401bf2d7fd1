import './app';
import { completeEntraSignIn, redirectPath, runRedirectBridge } from './entraSignIn';
import { startRouter } from './router';
import { loadSettings } from './settings';

/** Start-up: read the sign-in settings, finish an Entra sign-in if this load is its return, then show the page. */
async function start(): Promise<void> {
  if (location.pathname === redirectPath) {
    await runRedirectBridge();
    return;
  }
  const settings = await loadSettings();
  if (settings.entra) {
    const returnTo = await completeEntraSignIn(settings.entra);
    if (returnTo) history.replaceState(null, '', returnTo);
  }
  startRouter();
  document.body.append(document.createElement('portal-app'));
}

start().catch((error: unknown) => {
  const message = document.createElement('p');
  message.setAttribute('role', 'alert');
  message.textContent = `The portal could not start: ${error instanceof Error ? error.message : String(error)}`;
  document.body.append(message);
});
