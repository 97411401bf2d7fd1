/**
 * The declared contract of each resource: every property it shows, in Graph's order, and who sets
 * it. One declaration per resource, from which the rest derives: the read-only list a body is
 * checked against (here, for the domain's parsing), the `$select` list (shared/query), and the view
 * (shared/http/graphViews.ts, shared/http/supportViews.ts), which is typed to render exactly these
 * properties, so a property added here and not rendered, or rendered and not declared, fails the
 * build.
 *   writable    a client sets it (on create, and on PATCH where the rules allow)
 *   createOnly  set on create, read-only afterwards
 *   readOnly    the service sets it
 *   inputOnly   a create body may carry it, the entity does not show it
 *   navigation  a relationship to other entities: never in a body, never in `$select`
 */
export type PropertyKind = 'writable' | 'createOnly' | 'readOnly' | 'inputOnly' | 'navigation';
export type Contract = Readonly<Record<string, PropertyKind>>;

/** The properties of a contract a view renders. */
export type ViewOf<C extends Contract> = {
  [K in keyof C as C[K] extends 'navigation' | 'inputOnly' ? never : K]: unknown;
};

/** What a create body may not hold: what the service sets, and navigation properties. */
export function readOnlyOnCreate(contract: Contract): string[] {
  return Object.keys(contract).filter((name) => contract[name] === 'readOnly' || contract[name] === 'navigation');
}

/** What an update body may not hold: the same, and what only a create sets. */
export function readOnlyOnUpdate(contract: Contract): string[] {
  return Object.keys(contract).filter((name) => ['readOnly', 'navigation', 'createOnly'].includes(contract[name]));
}

/** What `$select` may name: every property the entity shows. */
export function selectableOf(contract: Contract): string[] {
  return Object.keys(contract).filter((name) => contract[name] !== 'navigation' && contract[name] !== 'inputOnly');
}

export const relationshipContract = {
  id: 'readOnly',
  displayName: 'writable',
  duration: 'writable',
  customer: 'writable',
  accessDetails: 'writable',
  status: 'readOnly',
  autoExtendDuration: 'writable',
  createdDateTime: 'readOnly',
  lastModifiedDateTime: 'readOnly',
  activatedDateTime: 'readOnly',
  endDateTime: 'readOnly',
  operations: 'navigation',
  requests: 'navigation',
  accessAssignments: 'navigation',
} as const satisfies Contract;

export const requestContract = {
  id: 'readOnly',
  action: 'writable',
  status: 'readOnly',
  createdDateTime: 'readOnly',
  lastModifiedDateTime: 'readOnly',
} as const satisfies Contract;

export const assignmentContract = {
  id: 'readOnly',
  accessContainer: 'createOnly',
  accessDetails: 'writable',
  status: 'readOnly',
  createdDateTime: 'readOnly',
  lastModifiedDateTime: 'readOnly',
} as const satisfies Contract;

export const operationContract = {
  id: 'readOnly',
  operationType: 'readOnly',
  data: 'readOnly',
  status: 'readOnly',
  createdDateTime: 'readOnly',
  lastModifiedDateTime: 'readOnly',
} as const satisfies Contract;

export const supportRequestContract = {
  id: 'readOnly',
  title: 'writable',
  description: 'writable',
  category: 'writable',
  tenantId: 'readOnly',
  resourceTenantId: 'writable',
  allowAdvancedDiagnostics: 'writable',
  status: 'readOnly',
  assignedEngineer: 'readOnly',
  createdBy: 'readOnly',
  createdDateTime: 'readOnly',
  lastModifiedDateTime: 'readOnly',
  closedDateTime: 'readOnly',
  /** A partner filing for a customer names it; the request then shows it as its `tenantId`. */
  customerTenantId: 'inputOnly',
} as const satisfies Contract;

export const accessRequestContract = {
  id: 'readOnly',
  supportRequestId: 'createOnly',
  supportRequestTenantId: 'readOnly',
  resourceTenantId: 'createOnly',
  justification: 'createOnly',
  requestedBy: 'readOnly',
  status: 'readOnly',
  createdDateTime: 'readOnly',
  lastModifiedDateTime: 'readOnly',
  expirationDateTime: 'readOnly',
  endDateTime: 'readOnly',
} as const satisfies Contract;

export const approvalContract = {
  id: 'readOnly',
  accessRequestId: 'readOnly',
  supportRequestId: 'readOnly',
  supportRequestTenantId: 'readOnly',
  resourceTenantId: 'readOnly',
  justification: 'readOnly',
  engineer: 'readOnly',
  status: 'readOnly',
  approvedBy: 'readOnly',
  removedBy: 'readOnly',
  createdDateTime: 'readOnly',
  lastModifiedDateTime: 'readOnly',
  endDateTime: 'readOnly',
} as const satisfies Contract;
