import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { createRelationship, requestAction } from '../../shared/app/relationships';
import { AccessAssignment } from '../../shared/domain/assignments';
import { ChangeContext } from '../../shared/domain/change';
import { jobIds } from '../../shared/domain/jobs';
import {
  planAssignmentChange,
  planAssignmentCreate,
  planFinishAssignments,
  planTransition,
} from '../../shared/domain/relationshipChanges';
import { Relationship } from '../../shared/domain/relationships';
import { toGraphDateTime } from '../../shared/domain/time';
import { dueEntries } from '../../shared/store/dueIndex';
import { TransactionRefused } from '../../shared/store/executor';
import { commitRelationshipChange, findRelationship, readAssignmentSet } from '../../shared/store/relationships';
import { customerAdmin, partnerAgent, roles } from '../fixtures';

/**
 * The interleavings that let an assignment outlive a termination or keep a removed role (issue
 * 15), each pinned in order on Azurite: an assignment write decided before the change and stored
 * after it is refused (the change removed the grant it relies on); one stored between the
 * change's read of the assignments and its transaction is left to the change's follow-up, which
 * reads them again and applies the change to it too.
 */
const t0 = DateTime.fromISO('2026-04-01T00:00:00Z', { zone: 'utc' });
const context = (): ChangeContext => ({
  changeId: randomUUID(),
  at: toGraphDateTime(t0),
  initiatedBy: { kind: 'system' },
});

async function active(roleIds: string[]): Promise<Relationship> {
  const partnerTenantId = randomUUID();
  const customerTenantId = randomUUID();
  const created = await createRelationship(
    {
      displayName: `Race ${randomUUID().slice(0, 8)}`,
      duration: 'P365D',
      customer: { tenantId: customerTenantId },
      accessDetails: { unifiedRoles: roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
    },
    partnerAgent(partnerTenantId, t0),
  );
  await requestAction(created.value.id, 'lockForApproval', undefined, partnerAgent(partnerTenantId, t0));
  return (await requestAction(created.value.id, 'approve', undefined, customerAdmin(customerTenantId, t0)))
    .relationship;
}

function assignment(relationship: Relationship, roleIds: string[]): AccessAssignment {
  return {
    id: randomUUID(),
    relationshipId: relationship.id,
    accessContainerId: randomUUID(),
    roleIds,
    status: 'active',
    createdDateTime: toGraphDateTime(t0),
    lastModifiedDateTime: toGraphDateTime(t0),
  };
}

const live = async (relationship: Relationship) =>
  (await readAssignmentSet(relationship)).assignments.filter((item) => item.value.status !== 'deleted');

describe('assignment writes racing a termination or a role removal', () => {
  it('refuses an assignment decided before a termination and stored after it', async () => {
    const relationship = await active([roles.exchangeAdministrator]);
    const read = (await findRelationship(relationship.id)) as { value: Relationship; etag: string };
    const late = planAssignmentCreate(read.value, assignment(read.value, [roles.exchangeAdministrator]), context());
    const terminated = { ...read.value, status: 'terminated' as const, endDateTime: toGraphDateTime(t0) };
    await commitRelationshipChange(
      planTransition(read, terminated, context(), { assignments: await readAssignmentSet(read.value) }),
    );
    const refusal = await commitRelationshipChange(late).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TransactionRefused);
    expect(await live(relationship)).toEqual([]);
  });

  it('deletes, through the follow-up, an assignment stored between a termination’s read and its commit', async () => {
    const relationship = await active([roles.exchangeAdministrator]);
    const read = (await findRelationship(relationship.id)) as { value: Relationship; etag: string };
    const set = await readAssignmentSet(read.value);
    // Stored after the termination read the assignments, before it commits.
    await commitRelationshipChange(
      planAssignmentCreate(read.value, assignment(read.value, [roles.exchangeAdministrator]), context()),
    );
    const terminated = { ...read.value, status: 'terminated' as const, endDateTime: toGraphDateTime(t0) };
    const change = planTransition(read, terminated, context(), { assignments: set });
    expect(change.followUps.map((entry) => entry.job)).toEqual([jobIds.finishRelationshipChanges]);
    await commitRelationshipChange(change);
    expect(await live(relationship)).toHaveLength(1);
    // The follow-up (here run as its job would, after a crash) reads them again.
    const now = (await findRelationship(relationship.id)) as { value: Relationship; etag: string };
    await commitRelationshipChange(planFinishAssignments(now.value, await readAssignmentSet(now.value), context()));
    expect(await live(relationship)).toEqual([]);
    const due = await dueEntries(jobIds.finishRelationshipChanges, toGraphDateTime(t0.plus({ minutes: 1 })), 10_000);
    expect(due.map((row) => row.entry.subjectId)).toContain(relationship.id);
  });

  it('refuses a PATCH to a role the customer removed meanwhile, and cuts one stored before the removal committed', async () => {
    const relationship = await active([roles.exchangeAdministrator, roles.intuneAdministrator]);
    const first = (await findRelationship(relationship.id)) as { value: Relationship; etag: string };
    const created = assignment(first.value, [roles.exchangeAdministrator]);
    await commitRelationshipChange(planAssignmentCreate(first.value, created, context()));
    const [stored] = (await readAssignmentSet(first.value)).assignments;
    const patch = planAssignmentChange(
      first.value,
      stored,
      { ...created, roleIds: [roles.exchangeAdministrator, roles.intuneAdministrator] },
      context(),
    );

    // The customer removes Intune Administrator.
    const reduced = { ...first.value, roleIds: [roles.exchangeAdministrator] };
    const removal = planTransition(first, reduced, context(), { assignments: await readAssignmentSet(first.value) });
    // A create decided on the old roles lands between the removal's read and its commit.
    await commitRelationshipChange(
      planAssignmentCreate(first.value, assignment(first.value, [roles.intuneAdministrator]), context()),
    );
    await commitRelationshipChange(removal);
    expect((await commitRelationshipChange(patch).catch((error: unknown) => error)) instanceof TransactionRefused).toBe(
      true,
    );
    const now = (await findRelationship(relationship.id)) as { value: Relationship; etag: string };
    await commitRelationshipChange(planFinishAssignments(now.value, await readAssignmentSet(now.value), context()));
    const held = (await live(relationship)).flatMap((item) => item.value.roleIds);
    expect(held).toEqual([roles.exchangeAdministrator]);
  });
});
