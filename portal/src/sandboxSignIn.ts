import { call } from './api';
import { roleIds } from './roleIds';
import { decodeClaims, Session } from './session';

/** The sign-in picker's people (SPEC §17): each a set of claims the sandbox signs (POST /sandbox/tokens). */
export interface Preset {
  id: string;
  label: string;
  roles: string[];
  wids: string[];
  /** The page this person starts on. */
  home: string;
}

export const presets: Preset[] = [
  {
    id: 'partnerAdminAgent',
    label: 'Partner Admin Agent',
    roles: ['AdminAgent'],
    wids: [],
    home: '/portal/relationships',
  },
  {
    id: 'partnerGlobalAdministrator',
    label: 'Partner Global Administrator',
    roles: [],
    wids: [roleIds.globalAdministrator],
    home: '/portal/expiring',
  },
  {
    id: 'partnerHelpdeskAgent',
    label: 'Partner Helpdesk Agent',
    roles: ['HelpdeskAgent'],
    wids: [],
    home: '/portal/relationships',
  },
  {
    id: 'customerGlobalAdministrator',
    label: 'Customer Global Administrator',
    roles: [],
    wids: [roleIds.globalAdministrator],
    home: '/portal/customer/relationships',
  },
  {
    id: 'customerRelationshipAdministrator',
    label: 'Customer Delegated Admin Relationship Administrator',
    roles: [],
    wids: [roleIds.delegatedAdminRelationshipAdministrator],
    home: '/portal/customer/relationships',
  },
  {
    id: 'serviceSupportAdministrator',
    label: 'Tenant Service Support Administrator',
    roles: [],
    wids: [roleIds.serviceSupportAdministrator],
    home: '/portal/support',
  },
  { id: 'supportEngineer', label: 'Support engineer', roles: ['SupportEngineer'], wids: [], home: '/portal/support' },
];

export const defaultEmail = 'admin@sandbox.example';

/**
 * One person keeps one object id per tenant across sign-ins (as in Entra), so approvals and
 * assignments name the same user each time: a GUID derived from the tenant and e-mail.
 */
export function sandboxObjectId(tenantId: string, email: string): string {
  const text = `${tenantId.toLowerCase()}|${email.toLowerCase()}`;
  const words = [0x811c9dc5, 0x01000193, 0x9e3779b9, 0x85ebca6b].map((seed) => {
    let hash = seed >>> 0;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
    return hash.toString(16).padStart(8, '0');
  });
  const hex = words.join('');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export async function mintSandboxToken(preset: Preset, tenantId: string, email: string): Promise<string> {
  const result = await call<{ access_token: string }>('POST', '/sandbox/tokens', {
    anonymous: true,
    body: {
      tid: tenantId,
      oid: sandboxObjectId(tenantId, email),
      roles: preset.roles,
      wids: preset.wids,
      email,
      name: `${preset.label} (${email})`,
    },
  });
  return result.body.access_token;
}

export async function sandboxSession(preset: Preset, tenantId: string, email: string): Promise<Session> {
  const token = await mintSandboxToken(preset, tenantId, email);
  return { method: 'sandbox', token, claims: decodeClaims(token), label: preset.label, home: preset.home };
}

export const presetById = (id: string): Preset | undefined => presets.find((preset) => preset.id === id);

/** A random GUID (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function newGuid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
