import { randomUUID } from 'node:crypto';
import { TransactionAction } from '@azure/data-tables';
import { DateTime } from 'luxon';
import { AuditEntry } from '../../shared/domain/events';
import { toGraphDateTime } from '../../shared/domain/time';
import { eventRow, maxLogEntriesRead } from '../../shared/store/events';
import { tenantPartitions } from '../../shared/store/rows';
import { ensureTables, tableClient, tableNames } from '../../shared/store/tables';
import { expectGraphError, expectOk, roles, useTestHost } from './support';

/**
 * Issue 15, item 9: a tenant's audit log grows without end, so no one request reads all of it.
 * Pages in the log's own order (newest first) stream as before; `$count`, another `$orderby` and
 * CSV export read at most `maxLogEntriesRead` entries, beyond which they ask for a date range.
 */
describe('reads of a long audit log stay bounded', () => {
  const { client, host } = useTestHost();
  const tenantId = randomUUID();
  const start = DateTime.fromISO('2026-03-01T00:00:00Z', { zone: 'utc' });
  let token: string;

  beforeAll(async () => {
    await ensureTables();
    token = await client.token({ tid: tenantId, wids: [roles.globalAdministrator] });
    // One more entry than the bound, one a minute, written straight to storage (100 per transaction).
    const partitions = tenantPartitions(tenantId);
    const byPartition = new Map<string, TransactionAction[]>();
    for (let index = 0; index <= maxLogEntriesRead; index++) {
      const entry: AuditEntry = {
        id: randomUUID(),
        tenantId,
        activityDateTime: toGraphDateTime(start.plus({ minutes: index })),
        activityDisplayName: index % 2 ? 'Update delegated admin relationship' : 'Create delegated admin relationship',
        category: 'DelegatedAdminRelationship',
        operationType: 'Update',
        result: 'success',
        initiatedBy: { kind: 'user', tenantId, userId: randomUUID() },
        target: { id: randomUUID(), displayName: `Relationship ${index}`, type: 'delegatedAdminRelationship' },
        modifiedProperties: [],
      };
      const partitionKey = partitions[index % partitions.length];
      const actions = byPartition.get(partitionKey) ?? [];
      actions.push(['create', eventRow({ type: 'audit', value: entry }, partitionKey)]);
      byPartition.set(partitionKey, actions);
    }
    const tenants = tableClient(tableNames.tenants);
    await Promise.all(
      [...byPartition.values()].map(async (actions) => {
        for (let offset = 0; offset < actions.length; offset += 100) {
          await tenants.submitTransaction(actions.slice(offset, offset + 100));
        }
      }),
    );
  }, 120_000);

  const audits = (query: string, accept?: string) =>
    fetch(`${host.url}/v1.0/auditLogs/directoryAudits${query}`, {
      headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) },
    });
  const call = (query: string) => client.call('GET', `/v1.0/auditLogs/directoryAudits${query}`, { token });

  it('pages newest first without a bound, with or without naming that order', async () => {
    for (const query of ['?$top=5', '?$top=5&$orderby=activityDateTime desc']) {
      const page = expectOk(await call(query), 200);
      const times = (page.body.value as { activityDateTime: string }[]).map((entry) => entry.activityDateTime);
      expect(times[0]).toBe(toGraphDateTime(start.plus({ minutes: maxLogEntriesRead })));
      expect(times).toEqual([...times].sort().reverse());
      expect(page.body['@odata.nextLink']).toEqual(expect.any(String));
    }
  });

  it('refuses $count, another $orderby and CSV export over more than the bound, asking for a date range', async () => {
    for (const query of ['?$count=true', '?$orderby=activityDateTime asc', '?$orderby=activityDisplayName']) {
      const refused = await call(query);
      expectGraphError(refused, 400, 'badRequest');
      expect(JSON.stringify(refused.body)).toContain(String(maxLogEntriesRead));
      expect(JSON.stringify(refused.body)).toContain('$filter=activityDateTime ge');
    }
    const csv = await audits('', 'text/csv');
    expect(csv.status).toBe(400);
    expect(await csv.text()).toContain('date range');
  });

  it('answers them within a date range', async () => {
    const from = toGraphDateTime(start.plus({ minutes: 100 }));
    const to = toGraphDateTime(start.plus({ minutes: 110 }));
    const range = `$filter=activityDateTime ge ${from} and activityDateTime lt ${to}`;
    const counted = expectOk(await call(`?${range}&$count=true`), 200);
    expect(counted.body['@odata.count']).toBe(10);
    const ascending = expectOk(await call(`?${range}&$orderby=activityDateTime asc`), 200);
    expect((ascending.body.value as { activityDateTime: string }[])[0].activityDateTime).toBe(from);
    const csv = await audits(`?${range}`, 'text/csv');
    expect(csv.status).toBe(200);
    expect((await csv.text()).trim().split('\n')).toHaveLength(11);
  });
});
