import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { notFound } from '../shared/domain/errors';
import { builtInRoles, findRole, RoleDefinition } from '../shared/domain/roles';
import { roleDefinitionsPath, roleDefinitionView } from '../shared/http/graphViews';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/query/odata';
import { collectionPage, entityBody, json } from '../shared/http/responses';
import { odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { pageInMemory } from '../shared/query/paging';

/**
 * The role catalog as Graph's directory role definitions (SPEC §13, §14), readable by any
 * authenticated caller, so GDAP tools can show role names and descriptions for role ids.
 */
export const roleDefinitionCollection: CollectionSpec<RoleDefinition> = {
  fields: [
    { path: 'id', type: 'guid', get: (r) => r.id },
    { path: 'templateId', type: 'guid', get: (r) => r.id },
    { path: 'displayName', type: 'string', caseInsensitive: true, get: (r) => r.displayName },
    // Every role the service knows is built in and enabled.
    { path: 'isBuiltIn', type: 'boolean', get: () => 'true' },
    { path: 'isEnabled', type: 'boolean', get: () => 'true' },
  ],
  selectable: [
    'id',
    'description',
    'displayName',
    'isBuiltIn',
    'isEnabled',
    'resourceScopes',
    'rolePermissions',
    'templateId',
    'version',
  ],
  // Graph answers the whole catalog in one page; $top still pages.
  defaultTop: 300,
};

export async function listRoleDefinitionsHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, roleDefinitionCollection);
  const items = builtInRoles().map((value) => ({
    value,
    etag: '',
    key: `${value.displayName.toLowerCase()}|${value.id}`,
  }));
  const page = pageInMemory(items, query, roleDefinitionCollection);
  return collectionPage(request, scope, roleDefinitionsPath, page, (item) =>
    applySelect(roleDefinitionView(item.value) as Record<string, unknown>, query.select),
  );
}

export async function getRoleDefinitionHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, roleDefinitionCollection);
  const role = findRole(request.params.id);
  if (!role) throw notFound(`The role definition '${request.params.id}' was not found.`);
  const body = entityBody(roleDefinitionView(role), { context: odataContext(scope, roleDefinitionsPath) });
  return json(200, applySelect(body, select));
}

registerHttp({
  name: 'roleDefinitions',
  methods: ['GET'],
  route: 'v1.0/roleManagement/directory/roleDefinitions',
  handler: graphRoute(listRoleDefinitionsHandler),
});

registerHttp({
  name: 'roleDefinition',
  methods: ['GET'],
  route: 'v1.0/roleManagement/directory/roleDefinitions/{id}',
  handler: graphRoute(getRoleDefinitionHandler),
});
