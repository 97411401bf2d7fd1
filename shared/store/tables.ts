import { RestError, TableClient } from '@azure/data-tables';
import { config } from '../config';
import { stale } from '../domain/errors';
import { storageAccount } from './storageAccount';
import { whenTableNotFound } from './storageBudget';

/** Every table the service uses, created once per process on first use. */
export const tableNames = {
  /** 128 partitions per tenant: its relationships (as partner), audit log and notifications (rows.ts, events.ts). */
  tenants: 'Tenants',
  customerRelationships: 'CustomerRelationships',
  directory: 'Directory',
  /** The one due index of every job, the outbox's recovery entries included (dueIndex.ts, outbox.ts). */
  dueIndex: 'DueIndex',
  dapRelationships: 'DapRelationships',
  partners: 'Partners',
  customers: 'Customers',
  applicationConsents: 'ApplicationConsents',
  supportRequests: 'SupportRequests',
  supportIndex: 'SupportIndex',
  supportEngineers: 'SupportEngineers',
  /** Webhook registrations, and per tenant its deliveries and audit records (webhooks.ts). */
  webhooks: 'Webhooks',
  /** GDAP templates, their names and their customers' ties (templates.ts, SPEC §15). */
  gdapTemplates: 'GdapTemplates',
  /** Bulk jobs and their items (gdapJobs.ts, SPEC §15.4). */
  gdapJobs: 'GdapJobs',
  /** Service-wide settings: the stored sandbox clock (sandboxClock.ts), a generated webhook signing key (signingKey.ts). */
  settings: 'Settings',
} as const;
export type TableName = (typeof tableNames)[keyof typeof tableNames];

const clients = new Map<TableName, TableClient>();
let tablesReady: Promise<void> | undefined;
// A table deleted behind the service's back is created again by the next request (storageBudget.ts).
whenTableNotFound(() => {
  tablesReady = undefined;
});

export function tableClient(name: TableName): TableClient {
  let client = clients.get(name);
  if (!client) {
    client = storageAccount().table(`${config().tablePrefix}${name}`);
    clients.set(name, client);
  }
  return client;
}

/** Creates the tables if needed. Cheap after the first call: callers await it before any I/O. */
export function ensureTables(): Promise<void> {
  tablesReady ??= (async () => {
    const service = storageAccount().tableService();
    await Promise.all(
      Object.values(tableNames).map(async (name) => {
        try {
          await service.createTable(`${config().tablePrefix}${name}`);
        } catch (error) {
          if (!isStatus(error, 409)) throw error;
        }
      }),
    );
  })().catch((error: unknown) => {
    tablesReady = undefined;
    throw error;
  });
  return tablesReady;
}

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}

/**
 * A `.catch` handler that accepts the storage answering one of `statuses` (a delete finding the
 * row gone, an insert finding it there) and rethrows anything else.
 */
export const ignoreStatus =
  (...statuses: number[]) =>
  (error: unknown): void => {
    if (!statuses.some((status) => isStatus(error, status))) throw error;
  };

/**
 * Runs a write conditional on an ETag; losing to a concurrent writer becomes a `stale` error (412)
 * instead of a storage exception. That includes a writer that deleted the row since it was read
 * (storage answers 404): an If-Match naming a version that no longer exists fails (RFC 9110 §13.1.1).
 */
export async function conditionalWrite<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isStatus(error, 412) || isStatus(error, 404)) {
      throw stale('The entity was changed by another request: read it again and retry with its new ETag.');
    }
    throw error;
  }
}

/** RowKey characters Table Storage forbids (/ \ # ? and control characters) are percent-encoded. */
export function encodeKey(value: string): string {
  return encodeURIComponent(value);
}
