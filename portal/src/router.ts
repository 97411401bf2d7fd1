/**
 * Page addresses under /portal/ with the History API: links stay real links (open in a new tab,
 * copy the address), and a click on one inside the portal changes the page without a reload.
 */
const listeners = new Set<() => void>();

export function currentPath(): string {
  return location.pathname.replace(/\/+$/, '') || '/';
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  listeners.forEach((listener) => listener());
}

export function onNavigate(listener: () => void): void {
  listeners.add(listener);
}

export function startRouter(): void {
  addEventListener('popstate', () => listeners.forEach((listener) => listener()));
  document.addEventListener('click', (event) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    ) {
      return;
    }
    const link = (event.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
    if (!link || link.target || link.origin !== location.origin || !link.pathname.startsWith('/portal/')) return;
    event.preventDefault();
    if (link.pathname !== location.pathname || link.search !== location.search) navigate(link.pathname + link.search);
  });
}
