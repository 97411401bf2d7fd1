import { TableEntityResult, TransactionAction } from '@azure/data-tables';
import { conflict } from '../domain/errors';
import { normalizeName } from '../domain/relationships';
import { TransactionRefused } from './executor';
import { Entity, nameKey, namePartition } from './rows';
import { ignoreStatus, isStatus, tableClient, tableNames } from './tables';

/**
 * Display-name reservations (SPEC §2: unique per partner whatever the status, case-insensitively):
 * the relationship's one special pre-write. A `name|{lower-case name}` row lives in the partner
 * partition its hash names (rows.ts); new ids are chosen in that partition, so a create reserves
 * its name inside its own transaction. Only a rename to (or a relationship created elsewhere with)
 * a name reserved in another partition reserves it just before the transaction, marked in flight,
 * and releases it again should the transaction fail; the old name of a rename is released in the
 * transaction when it shares the partition, else just after, while it is still this one's.
 * A reservation whose relationship does not hold the name was left by a crash, and is released
 * when the name is wanted again.
 */
const tenants = () => tableClient(tableNames.tenants);

/** A reservation made outside its relationship's transaction counts as in flight this long. */
const pendingReservationMs = 60_000;

export interface NameChange {
  partnerTenantId: string;
  relationshipId: string;
  /** The partition of the relationship's transaction. */
  partitionKey: string;
  reserve?: string;
  release?: string;
}

/** What a name change adds to the transaction, and what goes before and after it. */
export interface NamePlan {
  actions: TransactionAction[];
  reserveBefore?: Entity;
  releaseAfter?: { partitionKey: string; rowKey: string; relationshipId: string };
}

const nameTaken = (displayName: string) =>
  conflict(`A relationship named '${displayName}' already exists for this partner. Display names must be unique.`);

export function planNames(change: NameChange): NamePlan {
  const plan: NamePlan = { actions: [] };
  const { reserve, release } = change;
  // A change of case only keeps its reservation.
  if (reserve !== undefined && release !== undefined && normalizeName(reserve) === normalizeName(release)) return plan;
  if (reserve !== undefined) {
    const reservation: Entity = {
      partitionKey: namePartition(change.partnerTenantId, reserve),
      rowKey: nameKey(reserve),
      relationshipId: change.relationshipId,
    };
    if (reservation.partitionKey === change.partitionKey) plan.actions.push(['create', reservation]);
    else plan.reserveBefore = reservation;
  }
  if (release !== undefined) {
    const partitionKey = namePartition(change.partnerTenantId, release);
    const rowKey = nameKey(release);
    if (partitionKey === change.partitionKey) plan.actions.push(['delete', { partitionKey, rowKey }]);
    else plan.releaseAfter = { partitionKey, rowKey, relationshipId: change.relationshipId };
  }
  return plan;
}

/** Deletes a reservation still at `etag`; gone or changed means another writer got there first. */
async function deleteReservation(partitionKey: string, rowKey: string, etag: string | undefined): Promise<void> {
  await tenants().deleteEntity(partitionKey, rowKey, { etag }).catch(ignoreStatus(404, 412));
}

/**
 * Releases a reservation of `displayName` left by a crash (its relationship does not hold the
 * name), so the name becomes usable, as intended; true when the name is free now. One made
 * outside its relationship's transaction is left alone while that may still be running.
 */
async function releaseOrphanedName(
  partnerTenantId: string,
  displayName: string,
  holdsName: (relationshipId: string, displayName: string) => Promise<boolean>,
): Promise<boolean> {
  const partitionKey = namePartition(partnerTenantId, displayName);
  let reservation: TableEntityResult<Record<string, unknown>>;
  try {
    reservation = await tenants().getEntity(partitionKey, nameKey(displayName));
  } catch (error) {
    if (isStatus(error, 404)) return true;
    throw error;
  }
  const reservedAt = Number(reservation.pendingSince);
  if (reservedAt > 0 && Date.now() - reservedAt < pendingReservationMs) return false;
  if (await holdsName(String(reservation.relationshipId), displayName)) return false;
  await deleteReservation(partitionKey, nameKey(displayName), reservation.etag);
  return true;
}

/**
 * Runs the transaction (`commit`) of a change that takes a name: a taken name is a 409, unless its
 * reservation was orphaned, in which case it is freed and the change tried once more.
 */
export async function withNames<T>(
  change: NameChange,
  plan: NamePlan,
  holdsName: (relationshipId: string, displayName: string) => Promise<boolean>,
  commit: () => Promise<T>,
): Promise<T> {
  const reserve = change.reserve;
  if (reserve === undefined) {
    const result = await commit();
    if (plan.releaseAfter) await releaseIfOwned(plan.releaseAfter);
    return result;
  }
  for (let attempt = 0; ; attempt++) {
    let reserved: { etag?: string } | undefined;
    try {
      if (plan.reserveBefore)
        reserved = await tenants().createEntity({ ...plan.reserveBefore, pendingSince: Date.now() });
      const result = await commitReleasing(plan, reserved, commit);
      if (plan.releaseAfter) await releaseIfOwned(plan.releaseAfter);
      return result;
    } catch (error) {
      const taken = plan.reserveBefore
        ? !reserved && isStatus(error, 409)
        : error instanceof TransactionRefused && error.reason === 'exists';
      if (!taken) throw error;
      if (attempt > 0 || !(await releaseOrphanedName(change.partnerTenantId, reserve, holdsName)))
        throw nameTaken(reserve);
    }
  }
}

async function commitReleasing<T>(
  plan: NamePlan,
  reserved: { etag?: string } | undefined,
  commit: () => Promise<T>,
): Promise<T> {
  try {
    return await commit();
  } catch (error) {
    if (plan.reserveBefore && reserved) {
      await deleteReservation(plan.reserveBefore.partitionKey, plan.reserveBefore.rowKey, reserved.etag);
    }
    throw error;
  }
}

/** A crash before this leaves an orphan, which `releaseOrphanedName` frees when the name is wanted. */
async function releaseIfOwned(release: NonNullable<NamePlan['releaseAfter']>): Promise<void> {
  try {
    const reservation = await tenants().getEntity(release.partitionKey, release.rowKey);
    if (reservation.relationshipId === release.relationshipId) {
      await deleteReservation(release.partitionKey, release.rowKey, reservation.etag);
    }
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
}
