import {
  BatchRequestContent as ClassicBatchRequestContent,
  BatchResponseContent as ClassicBatchResponseContent,
} from '@microsoft/microsoft-graph-client';
import type { UntypedObject } from '@microsoft/kiota-abstractions';
import { createGraphServiceClient } from '@microsoft/msgraph-sdk';
import { BatchRequestContent } from '@microsoft/msgraph-sdk-core';
import { createODataErrorFromDiscriminatorValue } from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import { HttpsTestHost, startHttpsTestHost } from './https';
import { classicGraphClient, kiotaRequestAdapter } from './sdkClients';
import { expectOk, relationshipsUrl } from './support';

/**
 * JSON batching (SPEC §14) through each official SDK's own BatchRequestContent, over HTTPS. Both
 * SDKs accept only a parallel batch, a serial chain or one shared dependency: these are chains
 * whose last item depends on a failing one and answers 424 without running.
 */
describe('JSON batching through the Graph SDKs', () => {
  let host: HttpsTestHost;
  let partner: string;

  beforeAll(async () => {
    host = await startHttpsTestHost();
    ({ partner } = await host.client.tenants());
  });
  afterAll(() => host.close());

  /** A relationship in `created` and its ETag, made over plain HTTPS. */
  async function draft(): Promise<{ id: string; etag: string }> {
    const created = expectOk(await host.client.createRelationship(partner), 201);
    return { id: String(created.body.id), etag: String(created.body['@odata.etag']) };
  }

  /** What the chain did, read back outside the batch. */
  async function current(id: string): Promise<Record<string, unknown>> {
    return expectOk(await host.client.call('GET', `${relationshipsUrl}/${id}`, { token: partner }), 200).body;
  }

  it('classic client: BatchRequestContent to /beta/$batch, with If-Match, dependsOn and 424', async () => {
    const { id, etag } = await draft();
    const item = (path: string, init: RequestInit = {}): Request =>
      // The SDK keeps only the path of each Request: the host in front of it is not sent.
      new Request(`${host.url}/tenantRelationships/delegatedAdminRelationships/${id}${path}`, init);
    const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
      method,
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const lockForApproval = { action: 'lockForApproval' };
    const batch = new ClassicBatchRequestContent([
      { id: 'read', request: item('') },
      {
        id: 'rename',
        request: item('', json('PATCH', { displayName: 'Renamed in a batch' }, { 'If-Match': etag })),
        dependsOn: ['read'],
      },
      { id: 'lock', request: item('/requests', json('POST', lockForApproval)), dependsOn: ['rename'] },
      // The ETag read before the rename is stale: 412, checked before the state rules.
      {
        id: 'stale',
        request: item('/requests', json('POST', lockForApproval, { 'If-Match': etag })),
        dependsOn: ['lock'],
      },
      { id: 'after', request: item(''), dependsOn: ['stale'] },
    ]);
    const client = classicGraphClient(host, partner);
    const responses = new ClassicBatchResponseContent(
      await client
        .api('/$batch')
        .version('beta')
        .post(await batch.getContent()),
    );

    const read = responses.getResponseById('read');
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({
      id,
      '@odata.context': `${host.url}/beta/$metadata#tenantRelationships/delegatedAdminRelationships/$entity`,
    });
    const renamed = responses.getResponseById('rename');
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ id, displayName: 'Renamed in a batch' });
    const lock = responses.getResponseById('lock');
    expect(lock.status).toBe(201);
    expect(lock.headers.get('location')).toMatch(
      new RegExp(`^${host.url}/beta/tenantRelationships/delegatedAdminRelationships/${id}/requests/`),
    );
    expect(await lock.json()).toMatchObject({ action: 'lockForApproval', status: 'succeeded' });
    const stale = responses.getResponseById('stale');
    expect(stale.status).toBe(412);
    expect(await stale.json()).toMatchObject({ error: { code: 'preconditionFailed' } });
    expect(responses.getResponseById('after').status).toBe(424);

    expect(await current(id)).toMatchObject({ displayName: 'Renamed in a batch', status: 'approvalPending' });
  });

  it('Kiota SDK: BatchRequestContent of fluent-API requests to /v1.0/$batch, with dependsOn and 424', async () => {
    const { id, etag } = await draft();
    const adapter = kiotaRequestAdapter(host, partner);
    const relationships = createGraphServiceClient(adapter).tenantRelationships.delegatedAdminRelationships;
    const batch = new BatchRequestContent(adapter, { XXX: createODataErrorFromDiscriminatorValue });
    // Each step is the fluent API's own request, turned into a batch step by the SDK. The SDK
    // (msgraph-sdk-core 1.0.0-preview.17) writes a step's headers and JSON body as `{}`, so only
    // requests that need neither, GETs, go through it intact; Graph would refuse the rest too.
    const steps = [
      batch.addBatchRequest(relationships.byDelegatedAdminRelationshipId(id).toGetRequestInformation(), 'read'),
      batch.addBatchRequest(
        relationships.byDelegatedAdminRelationshipId(id).requests.toGetRequestInformation(),
        'requests',
      ),
      batch.addBatchRequest(
        relationships.byDelegatedAdminRelationshipId(`${id}0`).toGetRequestInformation(),
        'missing',
      ),
      batch.addBatchRequest(relationships.toGetRequestInformation(), 'after'),
    ];
    // A serial chain, one of the shapes the SDK accepts: the list after the missing read never runs.
    steps.slice(1).forEach((step, index) => (step.dependsOn = [steps[index].id]));
    expect(steps.map((step) => step.url)).toEqual([
      `/tenantRelationships/delegatedAdminRelationships/${id}`,
      `/tenantRelationships/delegatedAdminRelationships/${id}/requests`,
      `/tenantRelationships/delegatedAdminRelationships/${id}0`,
      '/tenantRelationships/delegatedAdminRelationships',
    ]);
    const responses = await batch.postAsync();

    // The SDK keeps an item's body only when Graph sends it base64 (JSON bodies come as objects), so
    // statuses and headers are what it shows: the read answered with the draft's own ETag.
    expect(Object.fromEntries((await responses?.getResponsesStatusCodes()) ?? [])).toEqual({
      read: 200,
      requests: 200,
      missing: 404,
      after: 424,
    });
    // Typed as a record, the headers arrive as the SDK's untyped JSON nodes.
    const readHeaders = responses?.getResponseById('read')?.headers as unknown as UntypedObject;
    expect(readHeaders.getValue().ETag.getValue()).toBe(etag);
  });
});
