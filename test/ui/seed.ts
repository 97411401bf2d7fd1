import { randomUUID } from 'node:crypto';
import { Client, expectOk, relationshipsUrl, roles } from '../e2e/support';

/** Seed data for the browser tests, made through the public API as any client would. */

export type Body = Record<string, unknown>;

/** Runs `work` over `items` with at most `limit` calls in flight. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index], index);
      }
    }),
  );
  return results;
}

export async function nameTenant(client: Client, tenantId: string, displayName: string): Promise<void> {
  expectOk(await client.call('PUT', `/sandbox/tenants/${tenantId}`, { body: { displayName } }), 200);
}

export interface Party {
  tenantId: string;
  token: string;
}

export async function partnerAgent(client: Client, name: string): Promise<Party> {
  const tenantId = randomUUID();
  await nameTenant(client, tenantId, name);
  return { tenantId, token: await client.token({ tid: tenantId, roles: ['AdminAgent'] }) };
}

export async function customerAdmin(client: Client, name: string): Promise<Party> {
  const tenantId = randomUUID();
  await nameTenant(client, tenantId, name);
  return { tenantId, token: await client.token({ tid: tenantId, wids: [roles.globalAdministrator] }) };
}

export interface RelationshipSeed {
  displayName: string;
  duration?: string;
  autoExtendDuration?: string;
  roleIds?: string[];
  /** Locked and approved by the customer, so it is active with an end date. */
  active?: boolean;
  /** Locked for approval, waiting for the customer. */
  pending?: boolean;
}

export async function seedRelationship(
  client: Client,
  partner: Party,
  customer: Party,
  seed: RelationshipSeed,
): Promise<Body> {
  const created = expectOk(
    await client.call('POST', relationshipsUrl, {
      token: partner.token,
      body: {
        displayName: seed.displayName,
        duration: seed.duration ?? 'P730D',
        ...(seed.autoExtendDuration ? { autoExtendDuration: seed.autoExtendDuration } : {}),
        customer: { tenantId: customer.tenantId },
        accessDetails: {
          unifiedRoles: (seed.roleIds ?? [roles.exchangeAdministrator]).map((roleDefinitionId) => ({
            roleDefinitionId,
          })),
        },
      },
    }),
    201,
  );
  const id = String(created.body.id);
  if (seed.active || seed.pending) expectOk(await client.request(partner.token, id, 'lockForApproval'), 201);
  if (seed.active) expectOk(await client.request(customer.token, id, 'approve'), 201);
  return (await client.call('GET', `${relationshipsUrl}/${id}`, { token: partner.token })).body;
}

export async function readRelationship(client: Client, token: string, id: string): Promise<Body> {
  return expectOk(await client.call('GET', `${relationshipsUrl}/${id}`, { token }), 200).body;
}

/**
 * Many draft relationships at once, straight into storage: each made by the domain's own
 * constructor and written with the store's own row mapping, one entity-group transaction per
 * partition. (Through the API 1,000 creates take 5 to 20 s on this machine; this takes about one.)
 */
export async function seedDraftsInStorage(partner: Party, customer: Party, names: string[]): Promise<void> {
  const { createRelationship } = await import('../../shared/domain/relationships');
  const { newRelationshipIdBesideName, relationshipToRow } = await import('../../shared/store/relationships');
  const { ensureTables, tableClient, tableNames } = await import('../../shared/store/tables');
  const { DateTime } = await import('luxon');
  await ensureTables();
  const now = DateTime.utc();
  const byPartition = new Map<string, ReturnType<typeof relationshipToRow>[]>();
  for (const displayName of names) {
    const id = newRelationshipIdBesideName(partner.tenantId, displayName);
    const body = {
      displayName,
      duration: 'P730D',
      customer: { tenantId: customer.tenantId },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
    };
    const row = relationshipToRow(createRelationship(body, { id, partnerTenantId: partner.tenantId }, now));
    byPartition.set(row.partitionKey, [...(byPartition.get(row.partitionKey) ?? []), row]);
  }
  const table = tableClient(tableNames.tenants);
  const transactions = [...byPartition.values()].flatMap((rows) =>
    Array.from({ length: Math.ceil(rows.length / 100) }, (_, index) => rows.slice(index * 100, (index + 1) * 100)),
  );
  await inParallel(transactions, 8, (rows) => table.submitTransaction(rows.map((row) => ['create', row])));
}
