import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { setAutoExtend } from '../shared/app/relationships';
import { parseBulkAutoExtend, relationshipAnalytics } from '../shared/domain/analytics';
import { DomainError, forbidden } from '../shared/domain/errors';
import { readJsonBody } from '../shared/http/body';
import { graphErrorCodes, statusOfKind } from '../shared/http/errors';
import { AuthenticatedScope, callerOf, graphRoute } from '../shared/http/handler';
import { appRoles, hasAppRole, isGlobalAdministrator, Principal } from '../shared/domain/principal';
import { json } from '../shared/http/responses';
import { registerHttp } from '../shared/registrations';
import { assertPartnerMay } from '../shared/store/partners';
import { listChildren, listPartnerRelationships } from '../shared/store/relationships';
import { assignmentFromRow, childKinds } from '../shared/store/rows';
import { relationshipCollection } from './relationships';

/**
 * GDAP analytics and bulk auto-extend for a partner (SPEC §9). Counts come from storage; bulk
 * auto-extend changes each relationship through the same domain rule and store write as a PATCH,
 * so audit entries, the due-date index and the Global Administrator rule stay on one path.
 */
function requireAnalyticsReader(principal: Principal): void {
  if (!hasAppRole(principal, appRoles.adminAgent) && !isGlobalAdministrator(principal)) {
    throw forbidden('GDAP analytics require the AdminAgent role or Global Administrator in the partner tenant.');
  }
}

/** Runs `work` over `items` with at most `limit` at a time, results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  });
  await Promise.all(workers);
  return results;
}

export async function analyticsHandler(_request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  requireAnalyticsReader(scope.principal);
  const page = await listPartnerRelationships(
    scope.principal.tenantId,
    { orderBy: [], top: Number.MAX_SAFE_INTEGER, count: false },
    relationshipCollection,
  );
  const relationships = page.items.map((item) => item.value);
  const active = relationships.filter((relationship) => relationship.status === 'active');
  const assigned = new Set<string>();
  await mapLimited(active, 16, async (relationship) => {
    const assignments = await listChildren(childKinds.assignment, relationship, assignmentFromRow);
    if (assignments.some((item) => item.value.status === 'active')) assigned.add(relationship.id);
  });
  return json(
    200,
    relationshipAnalytics(relationships, (relationship) => assigned.has(relationship.id), scope.now),
  );
}

interface BulkResult {
  id: string;
  status: 'succeeded' | 'failed';
  error?: { code: string; message: string };
}

const failed = (id: string, status: keyof typeof graphErrorCodes, message: string): BulkResult => ({
  id,
  status: 'failed',
  error: { code: graphErrorCodes[status], message },
});

async function setAutoExtendOf(id: string, autoExtendDuration: string, scope: AuthenticatedScope): Promise<BulkResult> {
  try {
    await setAutoExtend(id, autoExtendDuration, callerOf(scope));
    return { id, status: 'succeeded' };
  } catch (error) {
    if (!(error instanceof DomainError)) {
      scope.log.error(`bulkAutoExtend failed on ${id}`, error);
      return failed(id, 500, 'An internal server error occurred. Quote the request-id when reporting it.');
    }
    return failed(id, statusOfKind[error.kind], error.message);
  }
}

export async function bulkAutoExtendHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  if (!hasAppRole(scope.principal, appRoles.adminAgent)) {
    throw forbidden('Changing auto-extension requires the AdminAgent role in the partner tenant.');
  }
  const input = parseBulkAutoExtend(await readJsonBody(request));
  // Account-state gate (SPEC §5.3): the whole call is refused when updates are not allowed.
  await assertPartnerMay(scope.principal.tenantId, 'updateGdap');
  const results = await mapLimited(input.relationshipIds, 5, (id) =>
    setAutoExtendOf(id, input.autoExtendDuration, scope),
  );
  return json(200, { results });
}

registerHttp({
  name: 'relationshipAnalytics',
  methods: ['GET'],
  route: 'v1.0/analytics/delegatedAdminRelationships',
  handler: graphRoute(analyticsHandler),
});

registerHttp({
  name: 'bulkAutoExtend',
  methods: ['POST'],
  route: 'v1.0/tenantRelationships/bulkAutoExtend',
  handler: graphRoute(bulkAutoExtendHandler),
});
