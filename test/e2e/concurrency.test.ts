import { randomUUID } from 'node:crypto';
import { CallResult, expectGraphError, relationshipsUrl, useTestHost } from './support';

/**
 * Races on real Azurite (SPEC §12): name reservation atomic with creation, ETag-conditional
 * updates, and request decisions that never double-apply. Every race fires its requests at once
 * over HTTP and then checks both the responses and the state a client reads back.
 */

type Entity = Record<string, unknown>;
interface Collection extends Record<string, unknown> {
  value: Entity[];
  '@odata.nextLink'?: string;
}

const url = (id: string): string => `${relationshipsUrl}/${id}`;

/** How many results had each status, e.g. { 201: 1, 409: 19 }. */
function statusCounts(results: readonly CallResult[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
  return counts;
}

describe('concurrency on Azurite', () => {
  const { client } = useTestHost();

  const get = (token: string, id: string): Promise<CallResult> => client.call('GET', url(id), { token });
  const patch = (token: string, id: string, etag: string, body: unknown): Promise<CallResult> =>
    client.call('PATCH', url(id), { token, body, headers: { 'if-match': etag } });
  const remove = (token: string, id: string, etag: string): Promise<CallResult> =>
    client.call('DELETE', url(id), { token, headers: { 'if-match': etag } });

  async function listAll(token: string, filter?: string): Promise<Entity[]> {
    const items: Entity[] = [];
    const query = new URLSearchParams({ $top: '300', ...(filter ? { $filter: filter } : {}) });
    let next: string | undefined = `${relationshipsUrl}?${query.toString()}`;
    while (next) {
      const page: CallResult<Collection> = await client.call<Collection>('GET', next, { token });
      expect(page.status).toBe(200);
      items.push(...page.body.value);
      next = page.body['@odata.nextLink'];
    }
    return items;
  }

  async function create(token: string, overrides: Record<string, unknown> = {}): Promise<Entity> {
    const result = await client.createRelationship(token, overrides);
    if (result.status !== 201) throw new Error(`create failed: ${result.status} ${JSON.stringify(result.body)}`);
    return result.body;
  }

  it('20 parallel creates with one display name: one 201, nineteen 409, one relationship', async () => {
    const { partner } = await client.tenants();
    const name = `Race ${randomUUID().slice(0, 8)}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        // Case variants race too: names are unique case-insensitively.
        client.createRelationship(partner, { displayName: index % 2 === 0 ? name : name.toUpperCase() }),
      ),
    );
    expect(statusCounts(results)).toEqual({ 201: 1, 409: 19 });
    for (const loser of results.filter((result) => result.status === 409)) expectGraphError(loser, 409, 'conflict');
    const winner = results.find((result) => result.status === 201) as CallResult;

    const listed = await listAll(partner);
    expect(listed.map((item) => item.id)).toEqual([winner.body.id]);
    const byName = await listAll(partner, `displayName eq '${name}'`);
    expect(byName).toHaveLength(1);
    expect((await get(partner, String(winner.body.id))).status).toBe(200);
    // The name stays reserved for the winner.
    expectGraphError(await client.createRelationship(partner, { displayName: name }), 409, 'conflict');
  });

  it('10 parallel approvals: one 201, the others 400, a single activation', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const created = await create(partner, { customer: { tenantId: customerTenantId }, duration: 'P30D' });
    const id = String(created.id);
    expect((await client.request(partner, id, 'lockForApproval')).status).toBe(201);

    const results = await Promise.all(Array.from({ length: 10 }, () => client.request(customer, id, 'approve')));
    expect(statusCounts(results)).toEqual({ 201: 1, 400: 9 });
    for (const loser of results.filter((result) => result.status === 400)) {
      expectGraphError(loser, 400, 'badRequest');
      expect((loser.body as { error: { message: string } }).error.message).toContain('active');
    }

    const active = (await get(partner, id)).body;
    expect(active.status).toBe('active');
    const winner = results.find((result) => result.status === 201) as CallResult;
    expect(active.activatedDateTime).toBe(winner.body.createdDateTime);
    expect(Date.parse(String(active.endDateTime)) - Date.parse(String(active.activatedDateTime))).toBe(
      30 * 24 * 60 * 60 * 1000,
    );
    const history = await client.call<Collection>('GET', `${url(id)}/requests`, { token: partner });
    expect(history.body.value.map((item) => item.action).sort()).toEqual(['approve', 'lockForApproval']);
    expect(history.body.value.find((item) => item.action === 'approve')?.id).toBe(winner.body.id);
  });

  it('10 parallel PATCHes with one If-Match: one 200, nine 412, the winner is what remains', async () => {
    const { partner } = await client.tenants();
    const original = `Patch race ${randomUUID().slice(0, 8)}`;
    const created = await create(partner, { displayName: original, duration: 'P10D' });
    const id = String(created.id);
    const etag = String(created['@odata.etag']);
    const renames = Array.from({ length: 10 }, (_, index) => `${original} #${index}`);

    // Half rename (moving the name reservation), half change only the duration.
    const results = await Promise.all(
      renames.map((displayName, index) =>
        patch(partner, id, etag, index % 2 === 0 ? { displayName } : { duration: `P${index + 20}D` }),
      ),
    );
    expect(statusCounts(results)).toEqual({ 200: 1, 412: 9 });
    for (const loser of results.filter((result) => result.status === 412)) {
      expectGraphError(loser, 412, 'preconditionFailed');
    }
    const winner = results.find((result) => result.status === 200) as CallResult;
    const current = await get(partner, id);
    expect(current.body).toEqual(winner.body);
    expect(current.body['@odata.etag']).not.toBe(etag);

    // Only the winner's name is reserved: the losers' names, and the old one if it moved, are free.
    const winnerName = String(winner.body.displayName);
    const freeNames = renames.filter((name, index) => index % 2 === 0 && name !== winnerName);
    if (winnerName !== original) freeNames.push(original);
    for (const name of freeNames) expect((await create(partner, { displayName: name })).displayName).toBe(name);
    expectGraphError(await client.createRelationship(partner, { displayName: winnerName }), 409, 'conflict');
  });

  it('a DELETE and a PATCH racing on one ETag: exactly one wins', async () => {
    const { partner } = await client.tenants();
    for (let round = 0; round < 6; round++) {
      const name = `Delete race ${round} ${randomUUID().slice(0, 8)}`;
      const created = await create(partner, { displayName: name });
      const id = String(created.id);
      const etag = String(created['@odata.etag']);
      // Alternate which request is sent first.
      const sendDelete = (): Promise<CallResult> => remove(partner, id, etag);
      const sendPatch = (): Promise<CallResult> => patch(partner, id, etag, { displayName: `${name} renamed` });
      let deleted: CallResult;
      let patched: CallResult;
      if (round % 2 === 0) {
        const deleting = sendDelete();
        [deleted, patched] = await Promise.all([deleting, sendPatch()]);
      } else {
        const patching = sendPatch();
        [deleted, patched] = await Promise.all([sendDelete(), patching]);
      }
      const wins = [deleted.status === 204, patched.status === 200].filter(Boolean).length;
      expect({ round, wins, deleted: deleted.status, patched: patched.status }).toMatchObject({ wins: 1 });

      const after = await get(partner, id);
      if (deleted.status === 204) {
        // The PATCH lost: a failed precondition (the version it named is gone) or, if it came later, 404.
        expect([404, 412]).toContain(patched.status);
        expectGraphError(after, 404, 'ResourceNotFound');
        // Both names are free: the draft's and the one the losing PATCH wanted.
        expect((await create(partner, { displayName: name })).displayName).toBe(name);
        expect((await create(partner, { displayName: `${name} renamed` })).displayName).toBe(`${name} renamed`);
      } else {
        expectGraphError(deleted, 412, 'preconditionFailed');
        expect(after.status).toBe(200);
        expect(after.body).toEqual(patched.body);
        expect(after.body.displayName).toBe(`${name} renamed`);
        expect((await create(partner, { displayName: name })).displayName).toBe(name);
        expectGraphError(await client.createRelationship(partner, { displayName: `${name} renamed` }), 409, 'conflict');
      }
    }
  });

  it('parallel DELETEs with one ETag: one 204, the others fail cleanly (412 or 404, never 500)', async () => {
    const { partner } = await client.tenants();
    for (let round = 0; round < 5; round++) {
      const name = `Double delete ${round} ${randomUUID().slice(0, 8)}`;
      const created = await create(partner, { displayName: name });
      const id = String(created.id);
      const etag = String(created['@odata.etag']);
      const results = await Promise.all(Array.from({ length: 4 }, () => remove(partner, id, etag)));
      const counts = statusCounts(results);
      expect({ round, deleted: counts[204] }).toEqual({ round, deleted: 1 });
      for (const loser of results.filter((result) => result.status !== 204)) {
        expect([404, 412]).toContain(loser.status);
        expectGraphError(loser, loser.status, loser.status === 404 ? 'ResourceNotFound' : 'preconditionFailed');
      }
      expectGraphError(await get(partner, id), 404, 'ResourceNotFound');
      expect((await create(partner, { displayName: name })).displayName).toBe(name);
    }
  });

  it('two renames racing to one new name: one 200, one 409, the loser keeps its reserved name', async () => {
    const { partner } = await client.tenants();
    const suffix = randomUUID().slice(0, 8);
    const first = await create(partner, { displayName: `First ${suffix}` });
    const second = await create(partner, { displayName: `Second ${suffix}` });
    const target = `Target ${suffix}`;

    const results = await Promise.all([
      patch(partner, String(first.id), String(first['@odata.etag']), { displayName: target }),
      patch(partner, String(second.id), String(second['@odata.etag']), { displayName: target.toLowerCase() }),
    ]);
    expect(statusCounts(results)).toEqual({ 200: 1, 409: 1 });
    const winnerIndex = results.findIndex((result) => result.status === 200);
    const [winner, loser] = winnerIndex === 0 ? [first, second] : [second, first];
    expectGraphError(results[1 - winnerIndex], 409, 'conflict');

    const winnerNow = (await get(partner, String(winner.id))).body;
    const loserNow = (await get(partner, String(loser.id))).body;
    expect(String(winnerNow.displayName).toLowerCase()).toBe(target.toLowerCase());
    expect(loserNow.displayName).toBe(loser.displayName);
    expect(loserNow['@odata.etag']).toBe(loser['@odata.etag']);

    // The loser's old name is still reserved; the winner's old name was released with the rename.
    expectGraphError(
      await client.createRelationship(partner, { displayName: String(loser.displayName) }),
      409,
      'conflict',
    );
    expectGraphError(await client.createRelationship(partner, { displayName: target }), 409, 'conflict');
    expect((await create(partner, { displayName: String(winner.displayName) })).displayName).toBe(winner.displayName);
    expect((await listAll(partner)).map((item) => String(item.displayName).toLowerCase()).sort()).toEqual(
      [String(loser.displayName), String(winner.displayName), target].map((name) => name.toLowerCase()).sort(),
    );
  });
});
