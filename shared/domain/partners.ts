import { DateTime } from 'luxon';
import { z } from 'zod';
import defaultRolesData from './defaultGdapRoles.json';
import { forbidden, invalid } from './errors';
import { isBuiltInRole } from './roles';
import { parsePartnerCenterBody } from './schema';
import { toGraphDateTime } from './time';

/**
 * Partner accounts (SPEC §5.1, §5.3): the partner's types, the state of each of its CSP programs,
 * whether it opted out of default GDAP, and what those allow. Pure: no I/O, no clock.
 */
export const partnerTypes = ['directBill', 'indirectProvider', 'indirectReseller', 'domain', 'cpv', 'advisor'] as const;
export type PartnerType = (typeof partnerTypes)[number];

/** The partner types that are CSP programs, each with a program state (§5.1). */
export const cspProgramTypes = ['directBill', 'indirectProvider', 'indirectReseller'] as const;
export type CspProgramType = (typeof cspProgramTypes)[number];

export const programStates = ['active', 'restricted', 'suspended'] as const;
export type ProgramState = (typeof programStates)[number];

export interface PartnerProfile {
  tenantId: string;
  partnerTypes: PartnerType[];
  /** One state per CSP program the partner is in; other partner types have none. */
  programStates: Partial<Record<CspProgramType, ProgramState>>;
  defaultGdapOptOut: boolean;
  /** Null for the implicit profile of a tenant nobody configured. */
  lastModifiedDateTime: string | null;
}

export type GdapAction = 'createGdap' | 'updateGdap';

/** A tenant without a profile is an active direct-bill partner (SPEC §11). */
export function implicitProfile(tenantId: string): PartnerProfile {
  return {
    tenantId,
    partnerTypes: ['directBill'],
    programStates: { directBill: 'active' },
    defaultGdapOptOut: false,
    lastModifiedDateTime: null,
  };
}

const isCspProgram = (type: PartnerType): type is CspProgramType =>
  (cspProgramTypes as readonly string[]).includes(type);

const profileSchema = z.strictObject({
  partnerTypes: z.array(z.enum(partnerTypes)),
  programStates: z
    .strictObject({
      directBill: z.enum(programStates).optional(),
      indirectProvider: z.enum(programStates).optional(),
      indirectReseller: z.enum(programStates).optional(),
    })
    .optional(),
  defaultGdapOptOut: z.boolean().optional(),
});

/**
 * A profile from a PUT body. A CSP program listed in `partnerTypes` without a state is `active`;
 * a state for a program the partner is not in is refused, as is an empty or repeated type list.
 */
export function parsePartnerProfile(body: unknown, tenantId: string, now: DateTime): PartnerProfile {
  const input = parsePartnerCenterBody(profileSchema, body, ['tenantId', 'lastModifiedDateTime', 'gdapPermissions']);
  if (input.partnerTypes.length === 0) throw invalid(`'partnerTypes' must contain at least one partner type.`);
  if (new Set(input.partnerTypes).size !== input.partnerTypes.length) {
    throw invalid(`'partnerTypes' contains the same partner type twice.`);
  }
  const states = input.programStates ?? {};
  for (const program of Object.keys(states) as CspProgramType[]) {
    if (!input.partnerTypes.includes(program)) {
      throw invalid(`'programStates.${program}' is set but '${program}' is not one of the partner's 'partnerTypes'.`);
    }
  }
  const ordered = partnerTypes.filter((type) => input.partnerTypes.includes(type));
  const programStatesOut: PartnerProfile['programStates'] = {};
  for (const program of ordered.filter(isCspProgram)) programStatesOut[program] = states[program] ?? 'active';
  return {
    tenantId,
    partnerTypes: ordered,
    programStates: programStatesOut,
    defaultGdapOptOut: input.defaultGdapOptOut ?? false,
    lastModifiedDateTime: toGraphDateTime(now),
  };
}

/**
 * The account-state gate of SPEC §5.3, by the states of the partner's CSP programs:
 * any `active` → create and update; none active but some `restricted` → update only;
 * all `suspended` → neither. A partner in no CSP program (domain, CPV or advisor only) has no
 * program state to restrict it and is not gated.
 */
export function gdapPermissions(profile: PartnerProfile): Record<GdapAction, boolean> {
  const states = Object.values(profile.programStates);
  if (states.length === 0 || states.includes('active')) return { createGdap: true, updateGdap: true };
  if (states.includes('restricted')) return { createGdap: false, updateGdap: true };
  return { createGdap: false, updateGdap: false };
}

function describeStates(profile: PartnerProfile): string {
  return Object.entries(profile.programStates)
    .map(([program, state]) => `${program}: ${state}`)
    .join(', ');
}

/** Throws `forbidden` with the reason when the partner's account state does not allow `action`. */
export function assertGdapAllowed(profile: PartnerProfile, action: GdapAction): void {
  const allowed = gdapPermissions(profile);
  if (allowed[action]) return;
  const states = describeStates(profile);
  if (allowed.updateGdap) {
    throw forbidden(
      `The partner account has no active CSP program (${states}): while restricted it cannot create new GDAP relationships; existing relationships and their access assignments can still be updated.`,
    );
  }
  throw forbidden(
    `The partner account is suspended in all its CSP programs (${states}): GDAP relationships and their access assignments can be neither created nor updated.`,
  );
}

interface DefaultRoleRow {
  roleDefinitionId: string;
  displayName: string;
  partnerTypes: string[];
}

const defaultRoleTable: readonly DefaultRoleRow[] = defaultRolesData.roles.map((row) => ({
  ...row,
  roleDefinitionId: row.roleDefinitionId.toLowerCase(),
}));

// The table must only name catalog roles; a typo would otherwise surface as a failed customer creation.
for (const row of defaultRoleTable) {
  if (!isBuiltInRole(row.roleDefinitionId)) {
    throw new Error(`defaultGdapRoles.json names a role missing from the role catalog: ${row.roleDefinitionId}`);
  }
}

/**
 * The roles of the default GDAP relationship for a new customer (SPEC §5.2): the union over the
 * partner's types, in table order; none for advisors and partners who opted out.
 */
export function defaultGdapRoleIds(profile: Pick<PartnerProfile, 'partnerTypes' | 'defaultGdapOptOut'>): string[] {
  if (profile.defaultGdapOptOut) return [];
  return defaultRoleTable
    .filter((row) => row.partnerTypes.some((type) => (profile.partnerTypes as readonly string[]).includes(type)))
    .map((row) => row.roleDefinitionId);
}

/** Duration of the default GDAP relationship: the two-year maximum. */
export const defaultGdapDuration = 'P730D';

/**
 * The display name of a default GDAP relationship, unique per partner thanks to the customer's
 * tenant id: `Default_{companyName}_{first 8 hex of the tenant id}`, the company name shortened
 * so the whole stays within the 50-character limit.
 */
export function defaultGdapDisplayName(companyName: string, customerTenantId: string): string {
  const suffix = `_${customerTenantId.replace(/-/g, '').slice(0, 8).toLowerCase()}`;
  const prefix = 'Default_';
  const room = 50 - prefix.length - suffix.length;
  let name = '';
  for (const character of companyName.trim().replace(/\s+/g, ' ')) {
    if (name.length + character.length > room) break;
    name += character;
  }
  return `${prefix}${name.trim()}${suffix}`;
}
