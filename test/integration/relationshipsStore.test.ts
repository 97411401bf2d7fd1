import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { auditCollection } from '../../functions/auditLogs';
import { relationshipCollection } from '../../functions/relationships';
import { DomainError, DomainErrorKind } from '../../shared/domain/errors';
import { newRelationshipId } from '../../shared/domain/ids';
import { applyRequestAction, createRelationship, newRequest, Relationship } from '../../shared/domain/relationships';
import { globalAdministratorRoleId } from '../../shared/domain/roles';
import { toGraphDateTime } from '../../shared/domain/time';
import { fromApiEtag, toApiEtag } from '../../shared/http/etag';
import { parseCollectionQuery } from '../../shared/query/odata';
import { listAuditEntries } from '../../shared/store/events';
import { Page } from '../../shared/store/paging';
import { storeRelationshipChange } from '../../shared/app/relationshipStore';
import { ChangeContext } from '../../shared/domain/change';
import {
  needsAssignments,
  planCreate,
  planDelete,
  planTransition,
  relationshipAfter,
} from '../../shared/domain/relationshipChanges';
import { refusalAsDomainError } from '../../shared/store/executor';
import {
  findRelationship,
  listCustomerRelationships,
  listPartnerRelationships,
  findRelationshipWithRequests,
  newRelationshipIdBesideName,
  readAssignmentSet,
} from '../../shared/store/relationships';
import { nameKey, namePartition, relationshipPartition } from '../../shared/store/rows';
import { tableClient, tableNames } from '../../shared/store/tables';
import { Stored } from '../../shared/query/paging';
import { Operation } from '../../shared/domain/operations';
import { RelationshipRequest } from '../../shared/domain/relationships';
import { roles } from '../fixtures';

/*
 * The store's writes as the use cases make them: a plan of shared/domain/relationshipChanges.ts,
 * committed by the one executor. A lost race comes back as a `stale` DomainError.
 */
type ChangeCause = Omit<ChangeContext, 'changeId'>;
const contextOf = (cause: ChangeCause): ChangeContext => ({ ...cause, changeId: randomUUID() });

async function committed<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw refusalAsDomainError(error);
  }
}

async function insertRelationship(relationship: Relationship, cause: ChangeCause): Promise<Stored<Relationship>> {
  const change = planCreate(relationship, contextOf(cause));
  const stored = await committed(() => storeRelationshipChange(change, now));
  return { value: relationshipAfter(change) as Relationship, etag: stored.relationshipEtag as string };
}

async function replaceRelationship(
  previous: Relationship,
  next: Relationship,
  etag: string,
  cause: ChangeCause,
  extras: { request?: RelationshipRequest; operation?: Operation } = {},
): Promise<Stored<Relationship>> {
  const assignments = needsAssignments(previous, next) ? await readAssignmentSet(previous) : undefined;
  const change = planTransition({ value: previous, etag }, next, contextOf(cause), { ...extras, assignments });
  const stored = await committed(() => storeRelationshipChange(change, now));
  return { value: relationshipAfter(change) as Relationship, etag: stored.relationshipEtag as string };
}

async function deleteRelationship(relationship: Relationship, etag: string, cause: ChangeCause): Promise<void> {
  await committed(() => storeRelationshipChange(planDelete({ value: relationship, etag }, contextOf(cause)), now));
}

const userAdministrator = 'fe930be7-5e62-47db-91af-98c3a49a38b1';
const globalReader = roles.globalReader;
const now = DateTime.fromISO('2026-03-10T08:15:30.123Z', { zone: 'utc' });

/** Who made a change, for the audit entries every store write records. */
const cause: ChangeCause = {
  initiatedBy: {
    kind: 'user',
    tenantId: '00000000-0000-4000-8000-000000000001',
    userId: '00000000-0000-4000-8000-000000000002',
  },
  at: '2026-03-10T08:15:30.1230000Z',
};

function newTenant(): string {
  return randomUUID();
}

function build(
  partnerTenantId: string,
  displayName: string,
  options: { customer?: string | null; at?: DateTime; overrides?: Partial<Relationship> } = {},
): Relationship {
  const customer = options.customer === undefined ? newTenant() : options.customer;
  const relationship = createRelationship(
    {
      displayName,
      duration: 'P90D',
      ...(customer ? { customer: { tenantId: customer, displayName: 'Customer Ltd' } } : {}),
      accessDetails: { unifiedRoles: [{ roleDefinitionId: userAdministrator }] },
    },
    { id: newRelationshipIdBesideName(partnerTenantId, displayName), partnerTenantId },
    options.at ?? now,
  );
  return { ...relationship, ...options.overrides };
}

async function rejection(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected the promise to reject with a DomainError');
}

async function expectDomainError(promise: Promise<unknown>, kind: DomainErrorKind): Promise<DomainError> {
  const error = await rejection(promise);
  expect(error.kind).toBe(kind);
  return error;
}

function query(params: Record<string, string> = {}) {
  return parseCollectionQuery(new URLSearchParams(params), relationshipCollection);
}

/** Follows skipTokens to the end, returning every page. */
async function allPages<T = Relationship>(
  list: (skipToken?: string) => Promise<Page<T>>,
  maxPages = 20,
): Promise<Page<T>[]> {
  const pages: Page<T>[] = [];
  let skipToken: string | undefined;
  do {
    const page = await list(skipToken);
    pages.push(page);
    skipToken = page.skipToken;
  } while (skipToken !== undefined && pages.length < maxPages);
  expect(skipToken).toBeUndefined();
  return pages;
}

describe('relationships store', () => {
  describe('insert and find', () => {
    it('round-trips every field', async () => {
      const partner = newTenant();
      const relationship: Relationship = {
        ...build(partner, 'Round trip'),
        autoExtendDuration: 'P180D',
        roleIds: [userAdministrator, globalReader],
        status: 'active',
        activatedDateTime: '2026-03-11T00:00:00.0000000Z',
        endDateTime: '2026-06-09T00:00:00.0000000Z',
        lockedDateTime: '2026-03-10T09:00:00.0000000Z',
      };
      const stored = await insertRelationship(relationship, cause);
      // Born active, it sent its first webhook event (SPEC §16): the sequence that orders them is kept.
      expect(stored.value).toEqual({ ...relationship, webhookSequence: 1 });
      expect(stored.etag).toMatch(/\S/);
      // The API ETag wraps the real storage ETag and unwraps to it.
      expect(fromApiEtag(toApiEtag(stored.etag))).toBe(stored.etag);

      const found = await findRelationship(relationship.id);
      expect(found).toEqual(stored);
      // Ids are case-insensitive GUIDs.
      expect((await findRelationship(relationship.id.toUpperCase()))?.value).toEqual(stored.value);
    });

    it('preserves nulls: no customer, no activation, no end, not locked', async () => {
      const relationship = build(newTenant(), 'Nulls', { customer: null });
      expect(relationship.customer).toBeNull();
      await insertRelationship(relationship, cause);
      const found = await findRelationship(relationship.id);
      expect(found?.value).toEqual(relationship);
      expect(found?.value.customer).toBeNull();
      expect(found?.value.activatedDateTime).toBeNull();
      expect(found?.value.endDateTime).toBeNull();
      expect(found?.value.lockedDateTime).toBeNull();
    });

    it('preserves an empty customer display name', async () => {
      const relationship = build(newTenant(), 'Empty name', {
        overrides: { customer: { tenantId: newTenant(), displayName: '' } },
      });
      await insertRelationship(relationship, cause);
      expect((await findRelationship(relationship.id))?.value.customer).toEqual(relationship.customer);
    });

    it('finds nothing for unknown or malformed ids', async () => {
      expect(await findRelationship(newRelationshipId(newTenant()))).toBeUndefined();
      expect(await findRelationship('not-an-id')).toBeUndefined();
      expect(await findRelationship(randomUUID())).toBeUndefined();
    });
  });

  describe('display name uniqueness', () => {
    it('refuses a second relationship with the same name, whatever its case', async () => {
      const partner = newTenant();
      const first = build(partner, 'Contoso Support');
      await insertRelationship(first, cause);

      for (const name of ['Contoso Support', 'CONTOSO SUPPORT', 'contoso support']) {
        const duplicate = build(partner, name);
        const error = await expectDomainError(insertRelationship(duplicate, cause), 'conflict');
        expect(error.message).toContain(name);
        expect(await findRelationship(duplicate.id)).toBeUndefined();
      }
      expect((await findRelationship(first.id))?.value).toEqual(first);
    });

    it('scopes names to the partner', async () => {
      const name = 'Shared name';
      await insertRelationship(build(newTenant(), name), cause);
      const other = build(newTenant(), name);
      await expect(insertRelationship(other, cause)).resolves.toMatchObject({ value: other });
    });

    it('keeps names unique whatever the status of the holder', async () => {
      const partner = newTenant();
      await insertRelationship(build(partner, 'Old one', { overrides: { status: 'terminated' } }), cause);
      await expectDomainError(insertRelationship(build(partner, 'old one'), cause), 'conflict');
    });

    it('handles names with characters Table Storage forbids in keys', async () => {
      const partner = newTenant();
      const name = 'A/B\\C#D?E%F';
      const relationship = build(partner, name);
      await insertRelationship(relationship, cause);
      expect((await findRelationship(relationship.id))?.value.displayName).toBe(name);
      await expectDomainError(insertRelationship(build(partner, name.toLowerCase()), cause), 'conflict');
    });

    it('lets exactly one of 20 concurrent inserts of a name win', async () => {
      const partner = newTenant();
      const candidates = Array.from({ length: 20 }, (_, index) =>
        build(partner, index % 2 ? 'Race' : 'RACE', { customer: null }),
      );
      const results = await Promise.allSettled(candidates.map((candidate) => insertRelationship(candidate, cause)));

      const fulfilled = results.filter((result) => result.status === 'fulfilled');
      expect(fulfilled).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') {
          expect(result.reason).toBeInstanceOf(DomainError);
          expect((result.reason as DomainError).kind).toBe('conflict');
        }
      }
      const listed = await listPartnerRelationships(partner, query(), relationshipCollection);
      expect(listed.items).toHaveLength(1);
      expect(listed.items[0].value.id).toBe(
        (fulfilled[0] as PromiseFulfilledResult<{ value: Relationship }>).value.value.id,
      );
    });
  });

  describe('replace', () => {
    it('renames atomically: the old name is freed, the new one reserved', async () => {
      const partner = newTenant();
      const original = build(partner, 'Before');
      const stored = await insertRelationship(original, cause);

      const renamed = { ...original, displayName: 'After', lastModifiedDateTime: '2026-03-11T00:00:00.0000000Z' };
      const replaced = await replaceRelationship(original, renamed, stored.etag, cause);
      expect(replaced.value).toEqual(renamed);
      expect(replaced.etag).not.toBe(stored.etag);
      expect((await findRelationship(original.id))?.value).toEqual(renamed);
      // The reservation moved in the same write: nothing is left for a later insert to clean up.
      const rows = tableClient(tableNames.tenants);
      await expect(rows.getEntity(namePartition(partner, 'Before'), 'name|before')).rejects.toMatchObject({
        statusCode: 404,
      });
      await expect(rows.getEntity(namePartition(partner, 'After'), 'name|after')).resolves.toMatchObject({
        relationshipId: original.id,
      });

      await expectDomainError(insertRelationship(build(partner, 'after'), cause), 'conflict');
      const reuse = build(partner, 'before');
      await expect(insertRelationship(reuse, cause)).resolves.toMatchObject({ value: reuse });
    });

    it('refuses to rename onto a taken name and changes nothing', async () => {
      const partner = newTenant();
      const taken = build(partner, 'Taken');
      await insertRelationship(taken, cause);
      const original = build(partner, 'Mine');
      const stored = await insertRelationship(original, cause);

      await expectDomainError(
        replaceRelationship(original, { ...original, displayName: 'TAKEN' }, stored.etag, cause),
        'conflict',
      );
      expect(await findRelationship(original.id)).toEqual(stored);
      // 'Mine' is still reserved by the unchanged relationship.
      await expectDomainError(insertRelationship(build(partner, 'mine'), cause), 'conflict');
    });

    it('changes only the case of a name without losing the reservation', async () => {
      const partner = newTenant();
      const original = build(partner, 'case change');
      const stored = await insertRelationship(original, cause);
      const next = { ...original, displayName: 'Case Change' };
      await expect(replaceRelationship(original, next, stored.etag, cause)).resolves.toMatchObject({ value: next });
      await expectDomainError(insertRelationship(build(partner, 'CASE CHANGE'), cause), 'conflict');
    });

    it('refuses a stale ETag and changes nothing', async () => {
      const partner = newTenant();
      const original = build(partner, 'Stale replace');
      const first = await insertRelationship(original, cause);
      const second = await replaceRelationship(original, { ...original, duration: 'P30D' }, first.etag, cause);

      await expectDomainError(
        replaceRelationship(original, { ...original, duration: 'P60D' }, first.etag, cause),
        'stale',
      );
      await expectDomainError(
        replaceRelationship(second.value, { ...second.value, displayName: 'Stale rename' }, first.etag, cause),
        'stale',
      );
      expect(await findRelationship(original.id)).toEqual(second);
      // The failed rename neither reserved the new name nor released the old one.
      const reuse = build(partner, 'Stale rename');
      await expect(insertRelationship(reuse, cause)).resolves.toMatchObject({ value: reuse });
      await expectDomainError(insertRelationship(build(partner, 'stale replace'), cause), 'conflict');
    });

    it("keeps a relationship's requests through later changes, and clears fields set back to null", async () => {
      const original = build(newTenant(), 'Requests kept');
      const stored = await insertRelationship(original, cause);
      const locked: Relationship = { ...original, status: 'approvalPending', lockedDateTime: cause.at };
      const lock = newRequest(randomUUID(), original.id, 'lockForApproval', now);
      const afterLock = await replaceRelationship(original, locked, stored.etag, cause, { request: lock });
      // A change without a request, which also clears the customer.
      const edited: Relationship = { ...locked, customer: null, duration: 'P30D' };
      await replaceRelationship(locked, edited, afterLock.etag, cause);

      expect((await findRelationship(original.id))?.value).toEqual(edited);
      expect((await findRelationshipWithRequests(original.id))?.requests.map((item) => item.value)).toEqual([lock]);
    });

    it('keeps an audit entry for each of two like changes made in the same millisecond', async () => {
      const partner = newTenant();
      const original = build(partner, 'Same instant');
      const first = await insertRelationship(original, cause);
      // Same activity ('Update'), same lastModifiedDateTime, same cause time: a pinned clock.
      const once = { ...original, duration: 'P30D' };
      const second = await replaceRelationship(original, once, first.etag, cause);
      await replaceRelationship(once, { ...once, duration: 'P60D' }, second.etag, cause);

      const log = await listAuditEntries(partner, { ...query(), top: 10 }, auditCollection);
      const updates = log.items.filter(
        (item) => item.value.activityDisplayName === 'Update delegated admin relationship',
      );
      expect(updates.map((item) => item.value.modifiedProperties[0]?.newValue).sort()).toEqual(['P30D', 'P60D']);
    });
  });

  describe('delete', () => {
    it('removes the relationship and frees its name at once', async () => {
      const partner = newTenant();
      const original = build(partner, 'Draft');
      const stored = await insertRelationship(original, cause);
      await deleteRelationship(original, stored.etag, cause);

      expect(await findRelationship(original.id)).toBeUndefined();
      const reuse = build(partner, 'DRAFT');
      await expect(insertRelationship(reuse, cause)).resolves.toMatchObject({ value: reuse });
    });

    it('refuses a stale ETag and changes nothing', async () => {
      const partner = newTenant();
      const original = build(partner, 'Stale delete');
      const first = await insertRelationship(original, cause);
      const second = await replaceRelationship(original, { ...original, duration: 'P30D' }, first.etag, cause);

      await expectDomainError(deleteRelationship(original, first.etag, cause), 'stale');
      expect(await findRelationship(original.id)).toEqual(second);
      await expectDomainError(insertRelationship(build(partner, 'Stale delete'), cause), 'conflict');
    });
  });

  it('does not let an orphaned name reservation block the name', async () => {
    const partner = newTenant();
    const crashed = build(partner, 'Phoenix');
    await insertRelationship(crashed, cause);
    // A crash after the row was deleted but before the reservation was.
    await tableClient(tableNames.tenants).deleteEntity(relationshipPartition(crashed), `rel|${crashed.id}`);
    expect(await findRelationship(crashed.id)).toBeUndefined();

    const reborn = build(partner, 'phoenix');
    await expect(insertRelationship(reborn, cause)).resolves.toMatchObject({ value: reborn });
    await expectDomainError(insertRelationship(build(partner, 'PHOENIX'), cause), 'conflict');
  });

  describe('partitions', () => {
    /** A relationship whose id puts it in another partition than the one reserving its name. */
    function buildApart(partnerTenantId: string, displayName: string): Relationship {
      const beside = build(partnerTenantId, displayName);
      const digit = beside.id.charAt(0) === '0' ? '1' : '0';
      return { ...beside, id: digit + beside.id.slice(1) };
    }
    const reservation = (partner: string, displayName: string) =>
      tableClient(tableNames.tenants).getEntity<{ relationshipId: string; pendingSince?: number }>(
        namePartition(partner, displayName),
        nameKey(displayName),
      );

    it('creates a relationship in the partition that reserves its name, in one transaction', async () => {
      const partner = newTenant();
      const relationship = build(partner, 'Beside');
      expect(relationshipPartition(relationship)).toBe(namePartition(partner, 'Beside'));
      await insertRelationship(relationship, cause);
      const row = await reservation(partner, 'Beside');
      expect(row.relationshipId).toBe(relationship.id);
      // Only a reservation made outside the relationship's transaction is marked in flight.
      expect(row.pendingSince).toBeUndefined();
    });

    it('keeps names unique when the name lives in another partition, through create, rename and delete', async () => {
      const partner = newTenant();
      const apart = buildApart(partner, 'Far away');
      expect(relationshipPartition(apart)).not.toBe(namePartition(partner, 'Far away'));
      const stored = await insertRelationship(apart, cause);
      expect((await reservation(partner, 'Far away')).relationshipId).toBe(apart.id);
      await expectDomainError(insertRelationship(build(partner, 'FAR AWAY'), cause), 'conflict');

      const renamed = { ...apart, displayName: 'Elsewhere now' };
      const replaced = await replaceRelationship(apart, renamed, stored.etag, cause);
      expect((await reservation(partner, 'Elsewhere now')).relationshipId).toBe(apart.id);
      await expect(reservation(partner, 'Far away')).rejects.toMatchObject({ statusCode: 404 });
      await expectDomainError(insertRelationship(build(partner, 'elsewhere NOW'), cause), 'conflict');

      await deleteRelationship(renamed, replaced.etag, cause);
      await expect(reservation(partner, 'Elsewhere now')).rejects.toMatchObject({ statusCode: 404 });
      await expect(insertRelationship(build(partner, 'Elsewhere now'), cause)).resolves.toBeDefined();
    });

    it('releases a reservation made for a rename that lost its race, and leaves the name free', async () => {
      const partner = newTenant();
      const apart = buildApart(partner, 'Racer');
      const stored = await insertRelationship(apart, cause);
      await replaceRelationship(apart, { ...apart, duration: 'P30D' }, stored.etag, cause);
      // The rename was decided on the first version: its transaction fails, its new name is released.
      await expectDomainError(
        replaceRelationship(apart, { ...apart, displayName: 'Racer two' }, stored.etag, cause),
        'stale',
      );
      await expect(reservation(partner, 'Racer two')).rejects.toMatchObject({ statusCode: 404 });
      expect((await reservation(partner, 'Racer')).relationshipId).toBe(apart.id);
    });

    it('does not free an in-flight reservation for a competing create, but frees it once it is stale', async () => {
      const partner = newTenant();
      const inFlight = buildApart(partner, 'Contested');
      // A rename or create whose transaction has not landed yet: the reservation exists, the owner does not hold it.
      const rows = tableClient(tableNames.tenants);
      const key = { partitionKey: namePartition(partner, 'Contested'), rowKey: 'name|contested' };
      await rows.createEntity({ ...key, relationshipId: inFlight.id, pendingSince: Date.now() });
      await expectDomainError(insertRelationship(build(partner, 'Contested'), cause), 'conflict');

      // Left by a crash a while ago.
      await rows.updateEntity({ ...key, pendingSince: Date.now() - 5 * 60_000 }, 'Merge');
      const winner = build(partner, 'Contested');
      await expect(insertRelationship(winner, cause)).resolves.toMatchObject({ value: winner });
      expect((await reservation(partner, 'Contested')).relationshipId).toBe(winner.id);
    });

    it('lists a partner’s relationships across its partitions in id order, page by page', async () => {
      const partner = newTenant();
      const created = [];
      for (let index = 0; index < 12; index++) created.push(buildApart(partner, `Spread ${index}`));
      for (let index = 0; index < 12; index++) created.push(build(partner, `Beside ${index}`));
      for (const relationship of created) await insertRelationship(relationship, cause);
      expect(new Set(created.map(relationshipPartition)).size).toBeGreaterThan(4);
      const pages = await allPages((skipToken) =>
        listPartnerRelationships(partner, { ...query(), top: 5, skipToken }, relationshipCollection),
      );
      const listed = pages.flatMap((page) => page.items.map((item) => item.value.id));
      expect(listed).toEqual(created.map((relationship) => relationship.id).sort());
    });

    it('merges a tenant’s audit log from its partitions newest first, page by page', async () => {
      const partner = newTenant();
      for (let index = 0; index < 10; index++) {
        const at = now.plus({ minutes: index });
        await insertRelationship(build(partner, `Audited ${index}`, { at }), { ...cause, at: toGraphDateTime(at) });
      }
      const pages = await allPages((skipToken) =>
        listAuditEntries(partner, { ...query(), top: 3, skipToken }, auditCollection),
      );
      expect(pages.map((page) => page.items.length)).toEqual([3, 3, 3, 1]);
      const times = pages.flatMap((page) => page.items.map((item) => item.value.activityDateTime));
      expect(times).toEqual([...times].sort().reverse());
      expect(new Set(times).size).toBe(10);
    });
  });
  describe('listPartnerRelationships', () => {
    const partner = newTenant();
    const otherPartner = newTenant();
    const seeded: Relationship[] = [];
    const isPending = (index: number) => index % 3 === 0;

    beforeAll(async () => {
      for (let index = 0; index < 25; index++) {
        seeded.push(
          build(partner, `Relationship ${String(index).padStart(2, '0')}`, {
            at: now.plus({ minutes: (index * 7) % 25 }),
            overrides: isPending(index) ? { status: 'approvalPending' } : {},
          }),
        );
      }
      await Promise.all(seeded.map((relationship) => insertRelationship(relationship, cause)));
      await insertRelationship(build(otherPartner, 'Relationship 00'), cause);
    });

    const list = (params: Record<string, string>) => (skipToken?: string) =>
      listPartnerRelationships(
        partner,
        query(skipToken === undefined ? params : { ...params, $skipToken: skipToken }),
        relationshipCollection,
      );

    it('pages through 25 relationships 10 at a time without duplicates', async () => {
      const pages = await allPages(list({ $top: '10' }));
      expect(pages.map((page) => page.items.length)).toEqual([10, 10, 5]);
      const ids = pages.flatMap((page) => page.items.map((item) => item.value.id));
      expect(new Set(ids).size).toBe(25);
      expect(ids.sort()).toEqual(seeded.map((relationship) => relationship.id).sort());
      expect(pages.every((page) => page.count === undefined)).toBe(true);
      // Entities carry their ETags.
      const first = pages[0].items[0];
      expect(first.etag).toBe((await findRelationship(first.value.id))?.etag);
    });

    it('counts every match when $count=true, on every page', async () => {
      const pages = await allPages(list({ $top: '10', $count: 'true' }));
      expect(pages.map((page) => page.items.length)).toEqual([10, 10, 5]);
      expect(pages.map((page) => page.count)).toEqual([25, 25, 25]);
      expect(new Set(pages.flatMap((page) => page.items.map((item) => item.value.id))).size).toBe(25);
    });

    it('sorts with $orderby across pages', async () => {
      const pages = await allPages(list({ $top: '10', $orderby: 'displayName desc' }));
      const names = pages.flatMap((page) => page.items.map((item) => item.value.displayName));
      const expected = seeded
        .map((relationship) => relationship.displayName)
        .sort()
        .reverse();
      expect(names).toEqual(expected);

      const byCreation = await allPages(list({ $top: '7', $orderby: 'createdDateTime asc,displayName desc' }));
      const created = byCreation.flatMap((page) => page.items.map((item) => item.value.createdDateTime));
      expect(created).toHaveLength(25);
      expect([...created].sort()).toEqual(created);
    });

    it('pushes a $filter on status down to storage and pages its results', async () => {
      const client = tableClient(tableNames.tenants);
      const spy = jest.spyOn(client, 'listEntities');
      try {
        const pages = await allPages(list({ $top: '4', $filter: "status eq 'approvalPending'" }));
        const ids = pages.flatMap((page) => page.items.map((item) => item.value.id));
        const expected = seeded.filter((_, index) => isPending(index)).map((relationship) => relationship.id);
        expect(expected).toHaveLength(9);
        expect(ids.sort()).toEqual(expected.sort());
        expect(pages.map((page) => page.items.length)).toEqual([4, 4, 1]);
        expect(pages.flatMap((page) => page.items).every((item) => item.value.status === 'approvalPending')).toBe(true);

        const filters = spy.mock.calls.map((call) => call[0]?.queryOptions?.filter ?? '');
        expect(filters.length).toBeGreaterThanOrEqual(3);
        for (const filter of filters) expect(filter).toContain("status eq 'approvalPending'");
      } finally {
        spy.mockRestore();
      }
    });

    it('combines $filter, $orderby and $count', async () => {
      const page = await list({ $filter: "status ne 'approvalPending'", $orderby: 'displayName', $count: 'true' })();
      const expected = seeded
        .filter((_, index) => !isPending(index))
        .map((relationship) => relationship.displayName)
        .sort();
      expect(page.count).toBe(16);
      expect(page.items.map((item) => item.value.displayName)).toEqual(expected);
      expect(page.skipToken).toBeUndefined();
    });

    it('returns an empty page for a partner with nothing', async () => {
      const page = await listPartnerRelationships(newTenant(), query({ $count: 'true' }), relationshipCollection);
      expect(page).toEqual({ items: [], count: 0, skipToken: undefined });
    });
  });

  describe('listCustomerRelationships', () => {
    const ids = (page: Page<Relationship>) => page.items.map((item) => item.value.id).sort();

    it('lists only non-draft relationships whose partner row names the customer', async () => {
      const customer = newTenant();
      const otherCustomer = newTenant();
      const partnerA = newTenant();
      const partnerB = newTenant();

      const draft = build(partnerA, 'Draft', { customer });
      const pending = build(partnerA, 'Pending', { customer, overrides: { status: 'approvalPending' } });
      const active = build(partnerB, 'Active', { customer, overrides: { status: 'active' } });
      const terminated = build(partnerB, 'Terminated', { customer, overrides: { status: 'terminated' } });
      const someoneElse = build(partnerA, 'Someone else', {
        customer: otherCustomer,
        overrides: { status: 'active' },
      });
      const open = build(partnerB, 'Open invitation', { customer: null, overrides: { status: 'approvalPending' } });
      for (const relationship of [draft, pending, active, terminated, someoneElse, open]) {
        await insertRelationship(relationship, cause);
      }

      // A draft that was re-pointed at another customer before being sent: the old pointer stays behind.
      const moved = build(partnerA, 'Moved', { customer });
      const movedStored = await insertRelationship(moved, cause);
      const movedNext = { ...moved, customer: { tenantId: otherCustomer, displayName: '' } };
      const afterMove = await replaceRelationship(moved, movedNext, movedStored.etag, cause);
      const locked = applyRequestAction(
        afterMove.value,
        'lockForApproval',
        { tenantId: partnerA, isAdminAgent: true, managesCustomerRelationships: false },
        now,
      );
      await replaceRelationship(afterMove.value, locked, afterMove.etag, cause);

      const page = await listCustomerRelationships(customer, query({ $count: 'true' }), relationshipCollection);
      expect(ids(page)).toEqual([pending.id, active.id, terminated.id].sort());
      expect(page.count).toBe(3);

      const theirs = await listCustomerRelationships(otherCustomer, query(), relationshipCollection);
      expect(ids(theirs)).toEqual([someoneElse.id, moved.id].sort());
    });

    it('ignores a pointer to a relationship that moved to another customer or vanished', async () => {
      const customer = newTenant();
      const partner = newTenant();
      const relationship = build(partner, 'Pointer', { customer, overrides: { status: 'active' } });
      await insertRelationship(relationship, cause);
      const pointers = tableClient(tableNames.customerRelationships);
      // A pointer left behind by a crash, naming a relationship now with another customer.
      const elsewhere = build(partner, 'Elsewhere', { overrides: { status: 'active' } });
      await insertRelationship(elsewhere, cause);
      await pointers.upsertEntity(
        { partitionKey: customer, rowKey: elsewhere.id, partnerTenantId: partner },
        'Replace',
      );
      // And one to a relationship that no longer exists at all.
      await pointers.upsertEntity(
        { partitionKey: customer, rowKey: newRelationshipId(partner), partnerTenantId: partner },
        'Replace',
      );

      const page = await listCustomerRelationships(customer, query(), relationshipCollection);
      expect(ids(page)).toEqual([relationship.id]);
    });

    it('shows a customer-agnostic invitation to the customer that approved it', async () => {
      const customer = newTenant();
      const partner = newTenant();
      const open = build(partner, 'Anyone', {
        customer: null,
        overrides: { status: 'approvalPending', roleIds: [globalAdministratorRoleId] },
      });
      const stored = await insertRelationship(open, cause);
      expect((await listCustomerRelationships(customer, query(), relationshipCollection)).items).toHaveLength(0);

      const approved = applyRequestAction(
        open,
        'approve',
        { tenantId: customer, isAdminAgent: false, managesCustomerRelationships: true },
        now,
        'Fabrikam',
      );
      await replaceRelationship(open, approved, stored.etag, cause);
      const page = await listCustomerRelationships(customer, query(), relationshipCollection);
      expect(page.items.map((item) => item.value)).toEqual([{ ...approved, webhookSequence: 1 }]);
      expect(page.items[0].value.customer).toEqual({ tenantId: customer, displayName: 'Fabrikam' });
    });

    it('applies $filter, $orderby and paging in memory', async () => {
      const customer = newTenant();
      const partners = [newTenant(), newTenant(), newTenant()];
      const all: Relationship[] = [];
      for (let index = 0; index < 7; index++) {
        all.push(
          build(partners[index % 3], `Customer view ${index}`, {
            customer,
            overrides: { status: index % 2 ? 'active' : 'approvalPending' },
          }),
        );
      }
      await Promise.all(all.map((relationship) => insertRelationship(relationship, cause)));

      const pages = await allPages((skipToken) =>
        listCustomerRelationships(
          customer,
          query({
            $filter: "status eq 'active'",
            $orderby: 'displayName desc',
            $top: '2',
            $count: 'true',
            ...(skipToken ? { $skipToken: skipToken } : {}),
          }),
          relationshipCollection,
        ),
      );
      expect(pages.map((page) => page.items.length)).toEqual([2, 1]);
      expect(pages[0].count).toBe(3);
      expect(pages.flatMap((page) => page.items.map((item) => item.value.displayName))).toEqual([
        'Customer view 5',
        'Customer view 3',
        'Customer view 1',
      ]);
    });
  });
});
