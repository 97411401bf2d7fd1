import { readJsonBody } from '../shared/http/body';
import { executeBatch, maxBatchBytes, parseBatch } from '../shared/http/batch';
import { graphRoute } from '../shared/http/handler';
import { json } from '../shared/http/responses';
import { registerHttp } from '../shared/registrations';

/** JSON batching (SPEC §14); also served as `/beta/$batch`, whose items run under `/beta`. */
registerHttp({
  name: 'batch',
  methods: ['POST'],
  route: 'v1.0/$batch',
  handler: graphRoute(async (request, scope) => {
    const items = parseBatch(await readJsonBody(request, maxBatchBytes));
    const responses = await executeBatch(items, {
      origin: new URL(request.url).origin,
      version: scope.apiVersion,
      authorization: request.headers.get('authorization'),
      log: scope.log,
    });
    return json(200, { responses });
  }),
});
