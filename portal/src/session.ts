/**
 * Who is signed in. The access token lives in sessionStorage (this tab only, gone when it closes),
 * never in a URL; the claims are read from it for display and navigation only: the API decides
 * what the caller may do.
 */
export interface Claims {
  tid: string;
  oid?: string;
  email?: string;
  roles?: string[];
  wids?: string[];
  exp?: number;
}

export interface Session {
  method: 'sandbox' | 'entra';
  token: string;
  claims: Claims;
  /** What the person chose in the picker, or "Microsoft Entra" (for the top bar). */
  label: string;
  /** Where this person usually starts. */
  home: string;
}

const storageKey = 'gdap-portal.session';
let current: Session | undefined;
const listeners = new Set<() => void>();

export function decodeClaims(token: string): Claims {
  const payload = token.split('.')[1] ?? '';
  const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
  const text = new TextDecoder().decode(Uint8Array.from(atob(base64), (char) => char.charCodeAt(0)));
  return JSON.parse(text) as Claims;
}

export function session(): Session | undefined {
  if (!current) {
    const stored = sessionStorage.getItem(storageKey);
    current = stored ? (JSON.parse(stored) as Session) : undefined;
  }
  if (current?.claims.exp && current.claims.exp * 1000 <= Date.now()) {
    signOut();
    return undefined;
  }
  return current;
}

export function startSession(next: Session): void {
  current = next;
  sessionStorage.setItem(storageKey, JSON.stringify(next));
  listeners.forEach((listener) => listener());
}

/** A fresh token for the same person (Entra renews silently). */
export function replaceToken(token: string): void {
  if (current) startSession({ ...current, token, claims: decodeClaims(token) });
}

export function signOut(): void {
  current = undefined;
  sessionStorage.removeItem(storageKey);
  listeners.forEach((listener) => listener());
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const hasAppRole = (claims: Claims, role: string): boolean => (claims.roles ?? []).includes(role);
export const hasDirectoryRole = (claims: Claims, roleId: string): boolean => (claims.wids ?? []).includes(roleId);
