import { HttpRequest, HttpResponseInit } from '@azure/functions';
import '../shared/app/fleetActions';
import {
  cancelJob,
  createJob,
  handleJobMessage,
  handlePoisonedJobMessage,
  JobMessage,
  poisonReason,
  readJob,
  retryJob,
} from '../shared/app/gdapJobs';
import { requireAdminAgent } from '../shared/app/templates';
import {
  onRelationshipSettled,
  onRelationshipSettledPoisoned,
  onTemplateDeleted,
  RelationshipSettled,
  requirePartnerReader,
} from '../shared/app/templates';
import {
  countTallies,
  GdapJob,
  GdapJobItem,
  gdapApprovalsQueue,
  gdapJobsQueue,
  itemStates,
  jobStatus,
  parseJobRequest,
} from '../shared/domain/gdapJobs';
import { poisonSuffix } from '../shared/store/queues';
import { readJsonBody } from '../shared/http/body';
import { csvResponse, wantsCsv } from '../shared/http/csv';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { CollectionSpec, parseCollectionQuery } from '../shared/query/odata';
import { accepted, collectionPage, json } from '../shared/http/responses';
import { absoluteUrl, odataContext } from '../shared/http/urls';
import { registerHttp, registerQueue } from '../shared/registrations';
import { jobTallies, listItems, listJobs, StoredJob } from '../shared/store/gdapJobs';
import { pageInMemory } from '../shared/query/paging';

/**
 * Bulk jobs (SPEC §15.4): create, read (with counts from the chunks' tallies), list, items (paged or CSV),
 * cancel, retry; and the `gdap-jobs` queue trigger that runs them on every instance.
 */
export const jobsPath = '/v1/gdapJobs';
const bulkBodyBytes = 1024 * 1024;

async function jobView(stored: StoredJob): Promise<Record<string, unknown>> {
  const job = stored.value;
  const tallies = await jobTallies(job.id);
  const counts = countTallies(tallies);
  // Items not yet written (a job being created) count as pending.
  counts.pending += Math.max(0, job.total - counts.total);
  counts.total = Math.max(counts.total, job.total);
  const latest = [
    job.createdDateTime,
    ...tallies.map((tally) => tally.lastModifiedDateTime),
    job.canceledDateTime ?? '',
  ]
    .sort()
    .pop();
  return {
    id: job.id,
    kind: job.kind,
    status: jobStatus(job, counts),
    createdDateTime: job.createdDateTime,
    lastModifiedDateTime: latest,
    counts,
    parameters: job.parameters,
  };
}

export function itemView(item: GdapJobItem): Record<string, unknown> {
  return {
    id: item.id,
    ...(item.customerTenantId ? { customerTenantId: item.customerTenantId } : {}),
    ...(item.relationshipId ? { relationshipId: item.relationshipId } : {}),
    state: item.state,
    attempts: item.attempts,
    ...(item.invitationUrl ? { invitationUrl: item.invitationUrl } : {}),
    ...(item.warnings.length ? { warnings: item.warnings } : {}),
    ...(item.error ? { error: item.error } : {}),
    lastModifiedDateTime: item.lastModifiedDateTime,
  };
}

export const itemCollection: CollectionSpec<GdapJobItem> = {
  fields: [
    { path: 'state', type: 'enum', enumValues: itemStates, get: (item) => item.state, storageColumn: 'state' },
    { path: 'customerTenantId', type: 'guid', get: (item) => item.customerTenantId, storageColumn: 'customerTenantId' },
  ],
  selectable: [],
  maxTop: 1000,
};

const csvColumns: [string, (item: GdapJobItem) => string][] = [
  ['id', (item) => item.id],
  ['customerTenantId', (item) => item.customerTenantId ?? ''],
  ['relationshipId', (item) => item.relationshipId ?? ''],
  ['state', (item) => item.state],
  ['attempts', (item) => String(item.attempts)],
  ['invitationUrl', (item) => item.invitationUrl ?? ''],
  ['warnings', (item) => item.warnings.join('; ')],
  ['errorCode', (item) => item.error?.code ?? ''],
  ['errorMessage', (item) => item.error?.message ?? ''],
];

const jobUrl = (scope: AuthenticatedScope, job: GdapJob): string => absoluteUrl(scope, `${jobsPath}/${job.id}`);

async function jobsHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  if (request.method === 'POST') {
    requireAdminAgent(scope.principal);
    const job = await createJob(parseJobRequest(await readJsonBody(request, bulkBodyBytes)), scope);
    return accepted(jobUrl(scope, job));
  }
  requirePartnerReader(scope.principal);
  const query = parseCollectionQuery(new URL(request.url).searchParams, { fields: [], selectable: [] });
  const all = (await listJobs(scope.principal.tenantId))
    .sort(
      (a, b) => b.value.createdDateTime.localeCompare(a.value.createdDateTime) || a.value.id.localeCompare(b.value.id),
    )
    .map((job, index) => ({ ...job, key: String(index).padStart(8, '0') }));
  const page = pageInMemory(all, query, { fields: [], selectable: [] });
  const views = await Promise.all(page.items.map((item) => jobView({ ...item, dispatched: true } as StoredJob)));
  return collectionPage(
    request,
    scope,
    jobsPath,
    { ...page, items: views.map((value) => ({ value, etag: '' })) },
    (item) => item.value,
  );
}

async function jobHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  requirePartnerReader(scope.principal);
  const job = await readJob(scope.principal.tenantId, request.params.id);
  return json(200, { '@odata.context': `${odataContext(scope, jobsPath)}/$entity`, ...(await jobView(job)) });
}

async function itemsHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  requirePartnerReader(scope.principal);
  const job = await readJob(scope.principal.tenantId, request.params.id);
  const query = parseCollectionQuery(new URL(request.url).searchParams, itemCollection);
  if (wantsCsv(request.headers.get('accept'))) {
    const rows: GdapJobItem[] = [];
    let skipToken: string | undefined;
    do {
      const page = await listItems(job.value.id, { ...query, top: 1000, skipToken }, itemCollection);
      rows.push(...page.items.map((item) => item.value));
      skipToken = page.skipToken;
    } while (skipToken);
    return csvResponse(csvColumns, rows, `gdapJob-${job.value.id}-items.csv`);
  }
  const page = await listItems(job.value.id, query, itemCollection);
  return collectionPage(request, scope, `${jobsPath}/${job.value.id}/items`, page, (item) => itemView(item.value));
}

async function cancelHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  requireAdminAgent(scope.principal);
  const job = await readJob(scope.principal.tenantId, request.params.id);
  await cancelJob(job, scope);
  return accepted(jobUrl(scope, job.value));
}

async function retryHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  requireAdminAgent(scope.principal);
  const job = await readJob(scope.principal.tenantId, request.params.id);
  await retryJob(job, scope);
  return accepted(jobUrl(scope, job.value));
}

registerHttp({ name: 'gdapJobs', methods: ['GET', 'POST'], route: 'v1/gdapJobs', handler: graphRoute(jobsHandler) });
registerHttp({ name: 'gdapJob', methods: ['GET'], route: 'v1/gdapJobs/{id}', handler: graphRoute(jobHandler) });
registerHttp({
  name: 'gdapJobItems',
  methods: ['GET'],
  route: 'v1/gdapJobs/{id}/items',
  handler: graphRoute(itemsHandler),
});
registerHttp({
  name: 'gdapJobCancel',
  methods: ['POST'],
  route: 'v1/gdapJobs/{id}/cancel',
  handler: graphRoute(cancelHandler),
});
registerHttp({
  name: 'gdapJobRetry',
  methods: ['POST'],
  route: 'v1/gdapJobs/{id}/retry',
  handler: graphRoute(retryHandler),
});

type QueueMessage = JobMessage | { type: 'templateDeleted'; partnerTenantId: string; templateId: string };

async function handleMessage(message: QueueMessage): Promise<void> {
  if (message.type === 'templateDeleted') return onTemplateDeleted(message);
  return handleJobMessage(message);
}

registerQueue({
  name: 'gdapJobQueue',
  queueName: gdapJobsQueue,
  handler: async (message) => handleMessage(message as QueueMessage),
});

/** What every delivery failed on ends as failed items with the reason (SPEC §15.4), never silently. */
registerQueue({
  name: 'gdapJobQueuePoison',
  queueName: `${gdapJobsQueue}${poisonSuffix}`,
  handler: async (message, context) => {
    const value = message as QueueMessage;
    if (value.type === 'templateDeleted') {
      context.error('Removing the customer ties of a deleted template failed every delivery', JSON.stringify(value));
      return;
    }
    const failed = await handlePoisonedJobMessage(value, poisonReason);
    context.warn(`Poisoned ${value.type} message of job ${value.jobId}: ${failed} item(s) failed.`);
  },
});

/** The reaction to a customer's answer on a template relationship (SPEC §15.2 step 3). */
registerQueue({
  name: 'gdapApprovalQueue',
  queueName: gdapApprovalsQueue,
  handler: async (message) => onRelationshipSettled(message as RelationshipSettled),
});

registerQueue({
  name: 'gdapApprovalQueuePoison',
  queueName: `${gdapApprovalsQueue}${poisonSuffix}`,
  handler: async (message) => onRelationshipSettledPoisoned(message as RelationshipSettled, poisonReason),
});
