import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { AuditEntry } from '../shared/domain/events';
import { forbidden, invalid } from '../shared/domain/errors';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { applySelect, CollectionQuery, CollectionSpec, parseCollectionQuery } from '../shared/query/odata';
import { canReadPartnerResources, Principal } from '../shared/domain/principal';
import { collectionPage } from '../shared/http/responses';
import { csvCell } from '../shared/http/csv';
import { registerHttp } from '../shared/registrations';
import { listAuditEntries, maxLogEntriesRead } from '../shared/store/events';

/** The audit log per tenant in Graph's directoryAudit shape (SPEC §9), with CSV export. */
export const auditCollection: CollectionSpec<AuditEntry> = {
  fields: [
    { path: 'activityDateTime', type: 'dateTime', get: (a) => a.activityDateTime, storageColumn: 'activityDateTime' },
    { path: 'category', type: 'string', get: (a) => a.category, storageColumn: 'category' },
    {
      path: 'activityDisplayName',
      type: 'string',
      get: (a) => a.activityDisplayName,
      storageColumn: 'activityDisplayName',
    },
    { path: 'result', type: 'enum', enumValues: ['success', 'failure'], get: (a) => a.result, storageColumn: 'result' },
  ],
  selectable: [
    'id',
    'category',
    'activityDisplayName',
    'activityDateTime',
    'operationType',
    'result',
    'initiatedBy',
    'targetResources',
  ],
};

const auditPath = '/v1.0/auditLogs/directoryAudits';
const readerRoleIds = new Set([
  'f2ef992c-3afb-46b9-b7cf-a126ee74c451', // Global Reader
  '5d6b6bb7-de71-4623-b4af-96380a352509', // Security Reader
  '4a5d8f65-41da-4de4-8968-e035b65339cf', // Reports Reader
]);

function assertCanReadAudit(principal: Principal): void {
  if (!canReadPartnerResources(principal) && !principal.directoryRoleIds.some((id) => readerRoleIds.has(id))) {
    throw forbidden('Reading the audit log requires an administrator or reader role in this tenant.');
  }
}

export function auditView(entry: AuditEntry): Record<string, unknown> {
  const { initiatedBy } = entry;
  return {
    id: entry.id,
    category: entry.category,
    correlationId: entry.id,
    result: entry.result,
    resultReason: '',
    activityDisplayName: entry.activityDisplayName,
    activityDateTime: entry.activityDateTime,
    loggedByService: 'Granular delegated admin privileges',
    operationType: entry.operationType,
    initiatedBy:
      initiatedBy.kind === 'user'
        ? {
            user: { id: initiatedBy.userId ?? null, displayName: null, userPrincipalName: null, ipAddress: null },
            app: null,
          }
        : {
            user: null,
            app: {
              appId: null,
              displayName: 'GDAP scheduled maintenance',
              servicePrincipalId: null,
              servicePrincipalName: null,
            },
          },
    targetResources: [
      {
        id: entry.target.id,
        displayName: entry.target.displayName,
        type: entry.target.type,
        userPrincipalName: null,
        groupType: null,
        modifiedProperties: entry.modifiedProperties,
      },
    ],
    // Whose tenant acted: lets a partner see that a customer terminated a relationship.
    additionalDetails: initiatedBy.tenantId ? [{ key: 'initiatorTenantId', value: initiatedBy.tenantId }] : [],
  };
}

const csvColumns: [string, (entry: AuditEntry) => string][] = [
  ['activityDateTime', (e) => e.activityDateTime],
  ['category', (e) => e.category],
  ['activityDisplayName', (e) => e.activityDisplayName],
  ['result', (e) => e.result],
  ['initiatedByTenantId', (e) => e.initiatedBy.tenantId ?? ''],
  ['initiatedByUserId', (e) => e.initiatedBy.userId ?? (e.initiatedBy.kind === 'system' ? 'system' : '')],
  ['targetId', (e) => e.target.id],
  ['targetDisplayName', (e) => e.target.displayName],
  [
    'modifiedProperties',
    (e) => e.modifiedProperties.map((p) => `${p.displayName}: ${p.oldValue ?? ''} -> ${p.newValue ?? ''}`).join('; '),
  ],
  ['id', (e) => e.id],
];

async function exportCsv(tenantId: string, query: CollectionQuery): Promise<HttpResponseInit> {
  const lines = [csvColumns.map(([name]) => name).join(',')];
  let skipToken: string | undefined;
  let read = 0;
  do {
    const page = await listAuditEntries(tenantId, { ...query, top: 300, skipToken }, auditCollection);
    read += page.items.length;
    // An export reads the log in pages, but no further than any other read of it.
    if (read > maxLogEntriesRead) {
      throw invalid(
        `The export would hold more than ${maxLogEntriesRead} entries: narrow it with a date range, e.g. $filter=activityDateTime ge 2026-01-01T00:00:00Z and activityDateTime lt 2026-02-01T00:00:00Z.`,
      );
    }
    for (const { value } of page.items) lines.push(csvColumns.map(([, get]) => csvCell(get(value))).join(','));
    skipToken = page.skipToken;
  } while (skipToken);
  return {
    status: 200,
    body: `${lines.join('\r\n')}\r\n`,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="directoryAudits.csv"',
    },
  };
}

export async function listAuditHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  assertCanReadAudit(scope.principal);
  const query = parseCollectionQuery(new URL(request.url).searchParams, auditCollection);
  if ((request.headers.get('accept') ?? '').toLowerCase().includes('text/csv')) {
    return exportCsv(scope.principal.tenantId, query);
  }
  const page = await listAuditEntries(scope.principal.tenantId, query, auditCollection);
  return collectionPage(request, scope, auditPath, page, (item) => applySelect(auditView(item.value), query.select));
}

registerHttp({
  name: 'directoryAudits',
  methods: ['GET'],
  route: 'v1.0/auditLogs/directoryAudits',
  handler: graphRoute(listAuditHandler),
});
