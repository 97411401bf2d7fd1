import { HttpRequest, HttpResponseInit } from '@azure/functions';
import {
  assignCustomers,
  createTemplate,
  deleteTemplate,
  readTemplate,
  reconcileTemplate,
  requirePartnerReader,
  templateCustomers,
  unassignCustomers,
  updateTemplate,
} from '../shared/app/templates';
import { GdapJob } from '../shared/domain/gdapJobs';
import { GdapTemplate, parseAssignBody, parseUnassignBody, templateRoleIds } from '../shared/domain/templates';
import { readJsonBody } from '../shared/http/body';
import { requireIfMatch, toApiEtag } from '../shared/http/etag';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { CollectionSpec, parseCollectionQuery } from '../shared/query/odata';
import { accepted, collectionPage, entityBody, json, noContent } from '../shared/http/responses';
import { absoluteUrl, odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { Stored } from '../shared/store/paging';
import { listTemplates } from '../shared/store/templates';
import { jobsPath } from './gdapJobs';

/**
 * GDAP templates (SPEC §15.1–§15.3): this service's own Partner Center-style routes. Partner
 * AdminAgents write, partner readers read. Bulk bodies (assign, unassign) may be up to 1 MiB.
 */
export const templatesPath = '/v1/gdapTemplates';
const bulkBodyBytes = 1024 * 1024;

export const templateCollection: CollectionSpec<GdapTemplate> = {
  fields: [
    { path: 'displayName', type: 'string', caseInsensitive: true, get: (t) => t.displayName },
    { path: 'createdDateTime', type: 'dateTime', get: (t) => t.createdDateTime },
    { path: 'lastModifiedDateTime', type: 'dateTime', get: (t) => t.lastModifiedDateTime },
  ],
  selectable: [],
};

const roleList = (roleIds: readonly string[]) => roleIds.map((roleDefinitionId) => ({ roleDefinitionId }));

export function templateView(template: GdapTemplate): Record<string, unknown> {
  return {
    id: template.id,
    displayName: template.displayName,
    description: template.description,
    duration: template.duration,
    autoExtendDuration: template.autoExtendDuration,
    accessAssignments: template.assignments.map((assignment) => ({
      accessContainer: { accessContainerId: assignment.groupId, accessContainerType: 'securityGroup' },
      accessDetails: { unifiedRoles: roleList(assignment.roleIds) },
    })),
    unifiedRoles: roleList(templateRoleIds(template)),
    relationshipNamePrefix: template.relationshipNamePrefix,
    createdDateTime: template.createdDateTime,
    lastModifiedDateTime: template.lastModifiedDateTime,
  };
}

function templateEntity(
  status: number,
  stored: Stored<GdapTemplate>,
  headers: Record<string, string> = {},
): HttpResponseInit {
  const body = entityBody(templateView(stored.value), { etag: stored.etag });
  return json(status, body, { etag: toApiEtag(stored.etag), ...headers });
}

const jobLocation = (scope: AuthenticatedScope, job: GdapJob): string => absoluteUrl(scope, `${jobsPath}/${job.id}`);

async function templatesHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  if (request.method === 'POST') {
    const stored = await createTemplate(await readJsonBody(request), scope);
    return templateEntity(201, stored, { location: absoluteUrl(scope, `${templatesPath}/${stored.value.id}`) });
  }
  requirePartnerReader(scope.principal);
  const query = parseCollectionQuery(new URL(request.url).searchParams, templateCollection);
  const page = await listTemplates(scope.principal.tenantId, query, templateCollection);
  return collectionPage(request, scope, templatesPath, page, (item) =>
    entityBody(templateView(item.value), { etag: item.etag }),
  );
}

async function templateHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { id } = request.params;
  if (request.method === 'PATCH') {
    const etag = requireIfMatch(request);
    const { stored, job } = await updateTemplate(id, etag, await readJsonBody(request), scope);
    // A change of groups or roles reconciles every relationship made from it: the job is named here.
    return templateEntity(200, stored, job ? { 'operation-location': jobLocation(scope, job) } : {});
  }
  if (request.method === 'DELETE') {
    await deleteTemplate(id, requireIfMatch(request), scope);
    return noContent();
  }
  return templateEntity(200, await readTemplate(id, scope.principal));
}

async function assignHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const input = parseAssignBody(await readJsonBody(request, bulkBodyBytes));
  return accepted(jobLocation(scope, await assignCustomers(request.params.id, input, scope)));
}

async function unassignHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const customerTenantIds = parseUnassignBody(await readJsonBody(request, bulkBodyBytes));
  return json(200, { results: await unassignCustomers(request.params.id, customerTenantIds, scope) });
}

async function reconcileHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  return accepted(jobLocation(scope, await reconcileTemplate(request.params.id, scope)));
}

async function customersHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, { fields: [], selectable: [] });
  const page = await templateCustomers(request.params.id, query, scope.principal);
  const path = `${templatesPath}/${request.params.id.toLowerCase()}/customers`;
  return json(200, {
    '@odata.context': odataContext(scope, path),
    value: page.rows,
    ...(page.skipToken ? { '@odata.nextLink': nextPage(request, page.skipToken, scope.baseUrl) } : {}),
  });
}

function nextPage(request: HttpRequest, skipToken: string, baseUrl: string): string {
  const url = new URL(request.url);
  url.searchParams.delete('$skiptoken');
  url.searchParams.set('$skiptoken', skipToken);
  return `${baseUrl}${url.pathname}${url.search}`;
}

registerHttp({
  name: 'gdapTemplates',
  methods: ['GET', 'POST'],
  route: 'v1/gdapTemplates',
  handler: graphRoute(templatesHandler),
});

registerHttp({
  name: 'gdapTemplate',
  methods: ['GET', 'PATCH', 'DELETE'],
  route: 'v1/gdapTemplates/{id}',
  handler: graphRoute(templateHandler),
});

registerHttp({
  name: 'gdapTemplateAssign',
  methods: ['POST'],
  route: 'v1/gdapTemplates/{id}/assign',
  handler: graphRoute(assignHandler),
});

registerHttp({
  name: 'gdapTemplateUnassign',
  methods: ['POST'],
  route: 'v1/gdapTemplates/{id}/unassign',
  handler: graphRoute(unassignHandler),
});

registerHttp({
  name: 'gdapTemplateReconcile',
  methods: ['POST'],
  route: 'v1/gdapTemplates/{id}/reconcile',
  handler: graphRoute(reconcileHandler),
});

registerHttp({
  name: 'gdapTemplateCustomers',
  methods: ['GET'],
  route: 'v1/gdapTemplates/{id}/customers',
  handler: graphRoute(customersHandler),
});
