import { odata } from '@azure/data-tables';
import { randomUUID, X509Certificate } from 'node:crypto';
import { DateTime } from 'luxon';
import { runDueJob } from '../../shared/app/jobs';
import { finishRelationshipChanges, publishEvents } from '../../shared/app/maintenance';
import { createAssignment } from '../../shared/app/assignments';
import { removeDap } from '../../shared/app/dap';
import { createRelationship, requestAction } from '../../shared/app/relationships';
import { actingAsSystem } from '../../shared/app/caller';
import { webhookEventsOf } from '../../shared/domain/change';
import { assignmentsPerTransaction, planTransition } from '../../shared/domain/relationshipChanges';
import { Relationship } from '../../shared/domain/relationships';
import { toGraphDateTime } from '../../shared/domain/time';
import { Registration, WebhookEventName } from '../../shared/domain/webhooks';
import { importDap } from '../../shared/store/dap';
import { armFault, disarmFaults } from '../../shared/store/faults';
import { writeOutbound } from '../../shared/store/outbox';
import { storageQueueName } from '../../shared/store/queues';
import { findRelationship } from '../../shared/store/relationships';
import { relationshipPartition } from '../../shared/store/rows';
import { tableClient, tableNames } from '../../shared/store/tables';
import { storageAccount } from '../../shared/store/storageAccount';
import { insertRegistration, listDeliveries, webhookOutbound, deliveryQueue } from '../../shared/store/webhooks';
import { customerAdmin, partnerAgent, roles } from '../fixtures';

/**
 * Webhook events through the one outbox on a real Azurite (SPEC §16): a change a crash stopped
 * between its transaction and its publication has its deliveries published by the recovery job,
 * one never stored has none, a repeated publication stores each delivery once, a follow-up with no
 * event row of its own gets a witness of its own, and instances starting at once agree on one
 * signing key.
 */
const t0 = DateTime.fromISO('2026-01-01T00:00:00Z', { zone: 'utc' });

afterEach(disarmFaults);

async function register(tenantId: string, webhookEvents: WebhookEventName[]): Promise<void> {
  const registration: Registration = {
    tenantId,
    subscriberId: randomUUID(),
    webhookUrl: 'https://receiver.example.com/events',
    webhookEvents,
    signatureTokenToMsSignatureHeader: false,
    origin: 'https://gdap.example.com',
    createdDateTime: toGraphDateTime(t0),
    lastModifiedDateTime: toGraphDateTime(t0),
  };
  await insertRegistration(registration);
}

/** A relationship locked for approval, with its partner and customer. */
async function pendingRelationship(): Promise<{ relationship: Relationship; partner: string; customer: string }> {
  const partner = randomUUID();
  const customer = randomUUID();
  const created = await createRelationship(
    {
      displayName: `Webhook ${randomUUID().slice(0, 8)}`,
      duration: 'P30D',
      customer: { tenantId: customer },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
    },
    partnerAgent(partner, t0),
  );
  const locked = await requestAction(created.value.id, 'lockForApproval', undefined, partnerAgent(partner, t0));
  return { relationship: locked.relationship, partner, customer };
}

async function queuedMessagesFor(tenantId: string): Promise<number> {
  const queue = storageAccount().queue(storageQueueName(deliveryQueue));
  await queue.createIfNotExists();
  const peeked = await queue.peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.filter((item) =>
    Buffer.from(item.messageText, 'base64').toString('utf8').includes(tenantId),
  ).length;
}

const deliveriesOf = async (tenantId: string) =>
  (await listDeliveries(tenantId, undefined, 100)).map((delivery) => [
    delivery.eventName,
    delivery.status,
    delivery.stream.sequence,
  ]);

/** The outbox's `chg|` witnesses left in a relationship's partition. */
async function markers(relationship: Relationship): Promise<string[]> {
  const found: string[] = [];
  const rows = tableClient(tableNames.tenants).listEntities({
    queryOptions: {
      filter: odata`PartitionKey eq ${relationshipPartition(relationship)} and RowKey ge 'chg|' and RowKey lt 'chg}'`,
    },
  });
  for await (const row of rows) found.push(String(row.rowKey));
  return found;
}

/** The recovery job as it runs `minutes` of real time from now. */
const recover = (minutes: number) => runDueJob(publishEvents, DateTime.utc().plus({ minutes }));

describe('webhook events through the outbox', () => {
  it('publishes the deliveries of a change that crashed before publishing them, from the recovery job', async () => {
    const { relationship, partner, customer } = await pendingRelationship();
    await register(partner, ['granular-admin-relationship-approved', 'granular-admin-relationship-activated']);

    // The "crash": the approval is stored with the recovery entry written before it, then the process dies.
    armFault('afterTransaction');
    await expect(requestAction(relationship.id, 'approve', undefined, customerAdmin(customer, t0))).rejects.toThrow(
      /Simulated crash/,
    );
    expect((await findRelationship(relationship.id))?.value).toMatchObject({ status: 'active', webhookSequence: 1 });
    expect(await listDeliveries(partner, undefined, 10)).toEqual([]);

    // Recovery runs on real time, two minutes after the change.
    expect(await recover(1)).toMatchObject({ published: 0 });
    // Two deliveries, their audit records and one message for the resource's stream.
    expect(await recover(5)).toMatchObject({ published: 5 });
    expect(await deliveriesOf(partner)).toEqual([
      ['granular-admin-relationship-approved', 'pending', 1],
      ['granular-admin-relationship-activated', 'pending', 1],
    ]);
    const [approved] = await listDeliveries(partner, undefined, 10);
    expect(JSON.parse(approved.body)).toMatchObject({
      ResourceUri: `https://gdap.example.com/v1.0/tenantRelationships/delegatedAdminRelationships/${relationship.id}`,
      AuditUri: `https://gdap.example.com/auditactivity/v1/auditrecords/${approved.eventId}`,
    });
    expect(await queuedMessagesFor(partner)).toBe(1);
    // The customer has no registration: nothing for it.
    expect(await listDeliveries(customer, undefined, 10)).toEqual([]);
    expect(await queuedMessagesFor(customer)).toBe(0);
  });

  it('publishes nothing for a change that was never stored', async () => {
    const { relationship, partner, customer } = await pendingRelationship();
    await register(partner, ['granular-admin-relationship-approved']);
    armFault('beforeTransaction');
    await expect(requestAction(relationship.id, 'approve', undefined, customerAdmin(customer, t0))).rejects.toThrow(
      /Simulated crash/,
    );
    expect((await findRelationship(relationship.id))?.value.status).toBe('approvalPending');
    expect(await recover(5)).toMatchObject({ published: 0 });
    expect(await listDeliveries(partner, undefined, 10)).toEqual([]);
    expect(await queuedMessagesFor(partner)).toBe(0);
  });

  it('stores each delivery once however often it is published, and nothing for a tenant without a registration', async () => {
    const { relationship, partner, customer } = await pendingRelationship();
    await register(partner, ['granular-admin-relationship-approved', 'granular-admin-relationship-activated']);
    const stored = await findRelationship(relationship.id);
    const approved = { ...relationship, status: 'active' as const, activatedDateTime: toGraphDateTime(t0) };
    const plan = planTransition(stored as { value: Relationship; etag: string }, approved, {
      ...actingAsSystem(t0),
      changeId: randomUUID(),
    });
    const events = webhookEventsOf(plan.events);
    expect(events.map((event) => event.tenantId).sort()).toEqual([partner, partner, customer, customer].sort());
    const outbound = await webhookOutbound(events);
    if (!outbound) throw new Error('the partner subscribes: its events have an outbox');
    await writeOutbound(outbound);
    await writeOutbound(outbound);
    await Promise.all([writeOutbound(outbound), writeOutbound(outbound)]);
    expect(await listDeliveries(partner, undefined, 10)).toHaveLength(2);
    expect(await listDeliveries(customer, undefined, 10)).toEqual([]);
    // A change whose tenants have no registration has no outbox at all.
    expect(await webhookOutbound(events.filter((event) => event.tenantId === customer))).toBeUndefined();
  });

  it('records what a registration leaves out of a stream it takes as skipped, so later events do not wait for it', async () => {
    const { relationship, partner, customer } = await pendingRelationship();
    await register(partner, ['granular-admin-relationship-activated', 'test-created']);
    await requestAction(relationship.id, 'approve', undefined, customerAdmin(customer, t0));
    expect(await deliveriesOf(partner)).toEqual([
      ['granular-admin-relationship-approved', 'skipped', 1],
      ['granular-admin-relationship-activated', 'pending', 1],
    ]);
  });

  describe('a termination with more assignments than its transaction holds', () => {
    /** An active relationship with one assignment more than a transaction carries, its partner subscribed. */
    async function crowded(): Promise<{ relationship: Relationship; partner: string; customer: string }> {
      const pending = await pendingRelationship();
      await requestAction(pending.relationship.id, 'approve', undefined, customerAdmin(pending.customer, t0));
      const groups = Array.from({ length: assignmentsPerTransaction + 1 }, () => randomUUID());
      for (let start = 0; start < groups.length; start += 8) {
        await Promise.all(
          groups.slice(start, start + 8).map((group) =>
            createAssignment(
              pending.relationship.id,
              {
                accessContainer: { accessContainerId: group },
                accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
              },
              partnerAgent(pending.partner, t0),
            ),
          ),
        );
      }
      await register(pending.partner, ['granular-admin-access-assignment-deleted']);
      return pending;
    }

    const deleted = async (tenantId: string) =>
      (await listDeliveries(tenantId, undefined, 100)).filter(
        (delivery) => delivery.eventName === 'granular-admin-access-assignment-deleted',
      );

    it('tells of every deleted assignment, the follow-up’s through a witness it removes once they are out', async () => {
      const { relationship, partner } = await crowded();
      await requestAction(relationship.id, 'terminate', undefined, partnerAgent(partner, t0));
      expect(await deleted(partner)).toHaveLength(assignmentsPerTransaction + 1);
      expect(await markers(relationship)).toEqual([]);
    });

    it('publishes the follow-up’s deliveries after a crash, its marker being the witness', async () => {
      const { relationship, partner } = await crowded();
      // The termination stops after its transaction, and so does its follow-up when the job runs it.
      armFault('afterTransaction', 2);
      await expect(requestAction(relationship.id, 'terminate', undefined, partnerAgent(partner, t0))).rejects.toThrow(
        /Simulated crash/,
      );
      await expect(runDueJob(finishRelationshipChanges, t0.plus({ minutes: 1 }))).rejects.toThrow(/Simulated crash/);
      expect(await deleted(partner)).toHaveLength(0);
      expect(await markers(relationship)).toHaveLength(1);
      await recover(5);
      expect(await deleted(partner)).toHaveLength(assignmentsPerTransaction + 1);
      // Its work done, the marker goes with the recovery entry.
      expect(await markers(relationship)).toEqual([]);
    });
  });
});

describe('the signing key', () => {
  it('is one generated key for instances that start at once', async () => {
    const load = (): Promise<{ certificatePem: string }> => {
      let module: typeof import('../../shared/store/signingKey') | undefined;
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        module = require('../../shared/store/signingKey');
      });
      return (module as typeof import('../../shared/store/signingKey')).signingKey();
    };
    const [first, second] = await Promise.all([load(), load()]);
    expect(second.certificatePem).toBe(first.certificatePem);
    const certificate = new X509Certificate(first.certificatePem);
    expect(certificate.publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048 });
    expect((await load()).certificatePem).toBe(first.certificatePem);
  });
});

describe('DAP removal', () => {
  it('publishes its audit entry and event after a crash, and removes the DAP once', async () => {
    const partner = randomUUID();
    const customer = randomUUID();
    await register(partner, ['dap-admin-relationship-terminated']);
    await importDap({ partnerTenantId: partner, customerTenantId: customer, createdDateTime: toGraphDateTime(t0) });
    armFault('afterTransaction');
    await expect(removeDap(partner, customer, actingAsSystem(t0))).rejects.toThrow(/Simulated crash/);
    // The event's outbound rows and the partner's audit entry (SPEC §9).
    expect(await recover(5)).toMatchObject({ published: 3 });
    expect(await deliveriesOf(partner)).toEqual([['dap-admin-relationship-terminated', 'pending', 0]]);
    await expect(removeDap(partner, customer, actingAsSystem(t0))).rejects.toThrow(/No DAP/);
  });
});
