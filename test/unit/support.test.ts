import { DateTime, Duration } from 'luxon';
import { loadConfig } from '../../shared/config';
import {
  AccessRequest,
  approveAccessRequest,
  assertMayFile,
  chooseEngineer,
  closeSupportRequest,
  diagnosticsBasis,
  engineerFromBody,
  expireAccessRequest,
  grantsSupportTickets,
  listedAt,
  newSupportRequest,
  openAccessRequest,
  parseSupportRequestInput,
  rejectAccessRequest,
  removeApproval,
  SupportActor,
  SupportCase,
  SupportEngineer,
  supportRequestOf,
} from '../../shared/domain/support';
import { toGraphDateTime } from '../../shared/domain/time';
import { roles } from '../fixtures';

const t0 = DateTime.fromISO('2026-05-01T00:00:00Z', { zone: 'utc' });
const role = roles;
const A = 'aaaaaaaa-0000-0000-0000-000000000000';
const B = 'bbbbbbbb-0000-0000-0000-000000000000';
const C = 'cccccccc-0000-0000-0000-000000000000';
const requestId = '11111111-1111-1111-1111-111111111111';
const engineer: SupportEngineer = {
  id: 'eeeeeeee-0000-0000-0000-000000000001',
  tenantId: null,
  displayName: 'Eng',
  expertise: ['Identity'],
  createdDateTime: '',
  lastModifiedDateTime: '',
};
const engineerActor: SupportActor = { tenantId: C, userId: engineer.id, roleIds: [], isEngineer: true };
const admin = (tenantId: string, roleIds = [role.serviceSupportAdministrator], email = 'admin@contoso.example') => ({
  tenantId,
  userId: `${tenantId.slice(0, 8)}-1111-0000-0000-000000000000`,
  roleIds,
  isEngineer: false,
  email,
});

function supportCase(allowAdvancedDiagnostics = false): SupportCase {
  const request = newSupportRequest(
    parseSupportRequestInput({ title: 't', description: 'd', category: 'Identity', allowAdvancedDiagnostics }),
    { id: requestId, tenantId: A, actor: admin(A), engineer },
    t0,
  );
  return { request, accessRequests: [], approvals: [] };
}

function withPendingFor(resourceTenantId: string, base = supportCase()): { case: SupportCase; request: AccessRequest } {
  const change = openAccessRequest(
    base,
    { supportRequestId: requestId, resourceTenantId, justification: 'why' },
    engineerActor,
    { guid: '22222222-2222-2222-2222-222222222222', pendingExpiry: Duration.fromISO('P4D') },
    t0,
  );
  const request = change.accessRequests[0];
  return { case: { ...base, accessRequests: [request] }, request };
}

function apply(current: SupportCase, change: ReturnType<typeof closeSupportRequest>): SupportCase {
  const merge = <T extends { id: string }>(items: T[], changed: T[]) => [
    ...items.map((item) => changed.find((c) => c.id === item.id) ?? item),
    ...changed.filter((c) => !items.some((item) => item.id === c.id)),
  ];
  return {
    request: change.request ?? current.request,
    accessRequests: merge(current.accessRequests, change.accessRequests),
    approvals: merge(current.approvals, change.approvals),
  };
}

describe('support-ticket permission (from the role catalog)', () => {
  it.each([
    ['Global Administrator', role.globalAdministrator, true],
    ['Service Support Administrator', role.serviceSupportAdministrator, true],
    ['Helpdesk Administrator', role.helpdeskAdministrator, true],
    ['Global Reader', role.globalReader, false],
    ['Directory Readers', role.directoryReaders, false],
    ['Privileged Role Administrator', role.privilegedRoleAdministrator, false],
  ])('%s → %s', (_name, id, expected) => {
    expect(grantsSupportTickets([id])).toBe(expected);
  });
});

describe('who may file', () => {
  it('needs the permission in the own tenant', () => {
    expect(() => assertMayFile(admin(A), A)).not.toThrow();
    expect(() => assertMayFile(admin(A, [role.globalReader]), A)).toThrow(/Service Support Administrator/);
  });

  it('needs GDAP with the permission for a customer; DAP does not count', () => {
    const partner = admin(B, []);
    expect(() =>
      assertMayFile(partner, A, { mode: 'gdap', roleIds: [role.serviceSupportAdministrator] }),
    ).not.toThrow();
    expect(() => assertMayFile(partner, A, { mode: 'gdap', roleIds: [role.globalReader] })).toThrow(/GDAP roles/);
    expect(() => assertMayFile(partner, A, { mode: 'dap', roleIds: [role.globalAdministrator] })).toThrow(/DAP/);
    expect(() => assertMayFile(partner, A, { mode: 'none', roleIds: [] })).toThrow(/no GDAP access/);
    expect(() => assertMayFile(partner, A)).toThrow(expect.objectContaining({ kind: 'forbidden' }));
  });
});

describe('engineer choice', () => {
  const e = (id: string, expertise: string[]): SupportEngineer => ({ ...engineer, id, expertise });
  it('picks matching expertise, least loaded first, ties by id', () => {
    const candidates = [
      { engineer: e('3', ['Identity']), openRequests: 1 },
      { engineer: e('2', ['Exchange']), openRequests: 0 },
      { engineer: e('4', ['identity']), openRequests: 1 },
      { engineer: e('5', ['Identity', 'Exchange']), openRequests: 2 },
    ];
    expect(chooseEngineer(candidates, 'IDENTITY')?.id).toBe('3');
    expect(chooseEngineer(candidates, 'Exchange')?.id).toBe('2');
    expect(chooseEngineer(candidates, 'Billing')).toBeUndefined();
  });

  it('validates and normalises engineer bodies', () => {
    const created = engineerFromBody({ displayName: 'X', expertise: ['Identity', 'identity', 'MFA'] }, engineer.id, t0);
    expect(created.expertise).toEqual(['Identity', 'MFA']);
    expect(() => engineerFromBody({ displayName: 'X', expertise: [] }, engineer.id, t0)).toThrow(/expertise/);
    expect(() => engineerFromBody({ displayName: 'X', expertise: ['a'], level: 2 }, engineer.id, t0)).toThrow(
      /'level'/,
    );
  });
});

describe('access requests', () => {
  it('are created by the assigned engineer only, pending for the configured time', () => {
    const { request } = withPendingFor(B);
    expect(request).toMatchObject({ status: 'pending', expirationDateTime: toGraphDateTime(t0.plus({ days: 4 })) });
    expect(supportRequestOf(request.id)).toBe(requestId);
    const other = { ...engineerActor, userId: 'eeeeeeee-0000-0000-0000-000000000002' };
    const input = { supportRequestId: requestId, resourceTenantId: B, justification: 'x' };
    const context = { guid: '33333333-3333-3333-3333-333333333333', pendingExpiry: Duration.fromISO('P4D') };
    expect(() => openAccessRequest(supportCase(), input, other, context, t0)).toThrow(
      expect.objectContaining({ kind: 'notFound' }),
    );
    expect(() => openAccessRequest(supportCase(), input, admin(A), context, t0)).toThrow(
      expect.objectContaining({ kind: 'forbidden' }),
    );
    // Not needed for the request tenant when advanced diagnostics are allowed.
    expect(() =>
      openAccessRequest(supportCase(true), { ...input, resourceTenantId: A }, engineerActor, context, t0),
    ).toThrow(/No access request is needed/);
  });

  it('records "Request created" in the support request tenant only', () => {
    const change = openAccessRequest(
      supportCase(),
      { supportRequestId: requestId, resourceTenantId: B, justification: 'why' },
      engineerActor,
      { guid: '22222222-2222-2222-2222-222222222222', pendingExpiry: Duration.fromISO('P4D') },
      t0,
    );
    expect(change.audits.map((a) => [a.tenantId, a.activityDisplayName, a.category])).toEqual([
      [A, 'Request created', 'MicrosoftSupportAccessManagement'],
    ]);
  });

  it('are approved by one administrator of both tenants, holding the permission in both', () => {
    const { case: pending, request } = withPendingFor(B);
    const at = t0.plus({ hours: 1 });
    const change = approveAccessRequest(pending, request.id, admin(A), admin(B), at);
    expect(change.accessRequests[0].status).toBe('approved');
    expect(change.approvals[0]).toMatchObject({ status: 'approved', resourceTenantId: B, accessRequestId: request.id });
    expect(change.audits.map((a) => [a.tenantId, a.activityDisplayName])).toEqual([
      [A, 'Request approved'],
      [B, 'Approval approved'],
    ]);
    const refusals: [SupportActor, SupportActor | undefined, RegExp][] = [
      [admin(A), undefined, /X-Resource-Tenant-Authorization/],
      [admin(A), admin(B, [role.globalAdministrator], 'other@contoso.example'), /same person/],
      [admin(A), admin(C), /not from the resource tenant/],
      [admin(A), admin(B, [role.globalReader]), /resource tenant as well/],
      [admin(A, [role.globalReader]), admin(B), /support request tenant/],
      [{ ...admin(A), email: undefined }, admin(B), /same person/],
    ];
    for (const [caller, second, message] of refusals) {
      expect(() => approveAccessRequest(pending, request.id, caller, second, at)).toThrow(message);
      expect(() => approveAccessRequest(pending, request.id, caller, second, at)).toThrow(
        expect.objectContaining({ kind: 'forbidden' }),
      );
    }
    // A caller from another tenant does not see the request at all.
    expect(() => approveAccessRequest(pending, request.id, admin(B), admin(B), at)).toThrow(
      expect.objectContaining({ kind: 'notFound' }),
    );
  });

  it('need no second token when the resource tenant is the support request tenant', () => {
    const { case: pending, request } = withPendingFor(A);
    expect(approveAccessRequest(pending, request.id, admin(A), undefined, t0).approvals[0].resourceTenantId).toBe(A);
  });

  it('expire at the configured time and cannot be decided after it', () => {
    const { case: pending, request } = withPendingFor(B);
    const expiry = t0.plus({ days: 4 });
    expect(expireAccessRequest(pending, request.id, expiry.minus({ milliseconds: 1 }))).toBeUndefined();
    const expired = expireAccessRequest(pending, request.id, expiry);
    expect(expired?.accessRequests[0]).toMatchObject({ status: 'expired', endedDateTime: toGraphDateTime(expiry) });
    expect(expired?.audits.map((a) => [a.tenantId, a.activityDisplayName])).toEqual([[A, 'Request expired']]);
    expect(() => approveAccessRequest(pending, request.id, admin(A), admin(B), expiry)).toThrow(/expired/);
    expect(() => rejectAccessRequest(pending, request.id, admin(A), expiry)).toThrow(/expired/);
    const rejected = rejectAccessRequest(pending, request.id, admin(A), t0);
    expect(rejected.accessRequests[0].status).toBe('rejected');
    expect(rejected.audits.map((a) => a.activityDisplayName)).toEqual(['Request rejected']);
  });
});

describe('approvals and closing', () => {
  function approvedCase() {
    const { case: pending, request } = withPendingFor(B);
    return apply(pending, approveAccessRequest(pending, request.id, admin(A), admin(B), t0));
  }

  it('removal changes only the approval, audited in the resource tenant only', () => {
    const approved = approvedCase();
    const approvalId = approved.approvals[0].id;
    expect(() => removeApproval(approved, approvalId, admin(A), t0)).toThrow(
      expect.objectContaining({ kind: 'notFound' }),
    );
    expect(() => removeApproval(approved, approvalId, admin(B, [role.globalReader]), t0)).toThrow(
      expect.objectContaining({ kind: 'forbidden' }),
    );
    const change = removeApproval(approved, approvalId, admin(B), t0);
    expect(change.request).toBeUndefined();
    expect(change.requireRequestUnchanged).toBeFalsy();
    expect(change.accessRequests).toEqual([]);
    expect(change.approvals[0].status).toBe('removed');
    expect(change.audits.map((a) => [a.tenantId, a.activityDisplayName])).toEqual([[B, 'Approval removed']]);
  });

  it('closing completes approvals and approved requests, cancels pending ones, keeps removed ones', () => {
    let current = approvedCase();
    current = apply(current, removeApproval(current, current.approvals[0].id, admin(B), t0));
    const second = openAccessRequest(
      current,
      { supportRequestId: requestId, resourceTenantId: C, justification: 'more' },
      engineerActor,
      { guid: '44444444-4444-4444-4444-444444444444', pendingExpiry: Duration.fromISO('P4D') },
      t0,
    );
    current = apply(current, second);
    const close = closeSupportRequest(current, engineerActor, t0.plus({ hours: 2 }));
    const closed = apply(current, close);
    expect(closed.request.status).toBe('closed');
    expect(closed.accessRequests.map((r) => [r.resourceTenantId, r.status])).toEqual([
      [B, 'completed'],
      [C, 'canceled'],
    ]);
    expect(closed.approvals.map((a) => a.status)).toEqual(['removed']);
    expect(close.audits.map((a) => [a.tenantId, a.activityDisplayName])).toEqual([
      [A, 'Request completed'],
      [A, 'Request canceled'],
    ]);
    // Closing twice changes nothing; a stranger cannot close.
    expect(closeSupportRequest(closed, engineerActor, t0.plus({ hours: 3 })).audits).toEqual([]);
    expect(() => closeSupportRequest(current, admin(B), t0)).toThrow(expect.objectContaining({ kind: 'notFound' }));
  });

  it('diagnostics: own tenant iff allowed, another tenant iff an approval is in force, nothing once closed', () => {
    expect(diagnosticsBasis(supportCase(true), A, engineerActor)).toBe('advancedDiagnostics');
    expect(() => diagnosticsBasis(supportCase(false), A, engineerActor)).toThrow(/not allowed/);
    const approved = approvedCase();
    expect(diagnosticsBasis(approved, B, engineerActor)).toBe('approval');
    expect(() => diagnosticsBasis(approved, C, engineerActor)).toThrow(/No approval/);
    expect(() => diagnosticsBasis(approved, B, admin(B))).toThrow(expect.objectContaining({ kind: 'forbidden' }));
    const removed = apply(approved, removeApproval(approved, approved.approvals[0].id, admin(B), t0));
    expect(() => diagnosticsBasis(removed, B, engineerActor)).toThrow(/No approval/);
    const closed = apply(approved, closeSupportRequest(approved, engineerActor, t0));
    expect(() => diagnosticsBasis(closed, B, engineerActor)).toThrow(/closed/);
  });

  it('lists ended items for 30 days', () => {
    const ended = toGraphDateTime(t0);
    expect(listedAt(null, t0.plus({ years: 5 }))).toBe(true);
    expect(listedAt(ended, t0.plus({ days: 30 }).minus({ milliseconds: 1 }))).toBe(true);
    expect(listedAt(ended, t0.plus({ days: 30 }))).toBe(false);
  });
});

describe('pending expiry configuration', () => {
  it('defaults to 4 days and accepts a positive ISO 8601 duration from SUPPORT_ACCESS_REQUEST_PENDING_EXPIRY', () => {
    expect(loadConfig({}).supportAccessRequestPendingExpiry).toBe('P4D');
    expect(loadConfig({ SUPPORT_ACCESS_REQUEST_PENDING_EXPIRY: 'pt12h' }).supportAccessRequestPendingExpiry).toBe(
      'PT12H',
    );
    expect(() => loadConfig({ SUPPORT_ACCESS_REQUEST_PENDING_EXPIRY: '4 days' })).toThrow(/ISO 8601/);
    expect(() => loadConfig({ SUPPORT_ACCESS_REQUEST_PENDING_EXPIRY: 'P0D' })).toThrow(/positive/);
  });
});
