import { HttpRequest, HttpResponseInit } from '@azure/functions';
import {
  engineersWithLoad,
  EngineerWithLoad,
  putEngineer,
  readEngineer,
  requireServiceOperator,
} from '../shared/app/support';
import { invalid } from '../shared/domain/errors';
import { isGuid } from '../shared/domain/ids';
import { readJsonBody } from '../shared/http/body';
import { graphRoute, RequestScope } from '../shared/http/handler';
import { collection } from '../shared/http/responses';
import { engineerView, entityResponse, supportPaths, supportTypes } from '../shared/http/supportViews';
import { odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { sandboxRoute } from './sandbox';

/** Support engineers and their open-request load (SPEC §8.1): ServiceOperator, and the sandbox seed route. */

function engineerResponse(status: number, engineer: EngineerWithLoad, scope: RequestScope): HttpResponseInit {
  return entityResponse(status, engineer.stored, engineerView(engineer.stored.value, engineer.openRequests), {
    scope,
    path: supportPaths.engineers,
    odataType: supportTypes.engineer,
    location: engineer.created,
  });
}

async function putEngineerHandler(request: HttpRequest, scope: RequestScope): Promise<HttpResponseInit> {
  const id = request.params.oid;
  const body = await readJsonBody(request);
  if (!isGuid(id)) throw invalid(`The engineer id must be the engineer's object id (a GUID), not '${id}'.`);
  const engineer = await putEngineer(id, body, scope.now);
  return engineerResponse(engineer.created ? 201 : 200, engineer, scope);
}

registerHttp({
  name: 'supportEngineers',
  methods: ['GET'],
  route: 'v1.0/support/engineers',
  handler: graphRoute(async (_request, scope) => {
    requireServiceOperator(scope.principal);
    const views = (await engineersWithLoad()).map((engineer) => ({
      '@odata.type': supportTypes.engineer,
      ...engineerView(engineer.stored.value, engineer.openRequests),
    }));
    return collection(odataContext(scope, supportPaths.engineers), views);
  }),
});

registerHttp({
  name: 'supportEngineer',
  methods: ['GET', 'PUT'],
  route: 'v1.0/support/engineers/{oid}',
  handler: graphRoute(async (request, scope) => {
    requireServiceOperator(scope.principal);
    if (request.method === 'PUT') return putEngineerHandler(request, scope);
    return engineerResponse(200, await readEngineer(request.params.oid), scope);
  }),
});

registerHttp({
  name: 'sandboxSupportEngineer',
  methods: ['PUT'],
  route: 'sandbox/supportEngineers/{oid}',
  handler: sandboxRoute(putEngineerHandler),
});
