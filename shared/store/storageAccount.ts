import { TableClient, TableServiceClient } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { config } from '../config';
import {
  hostStorageConnectionName,
  serviceUriSettings,
  StorageConnection,
  StorageCredentialSettings,
  StorageService,
} from '../storageSettings';
import { queueRetryOptions, tablePolicies, tableRetryOptions } from './storageBudget';

/**
 * Turns the storage settings (shared/storageSettings.ts) into Table and Queue clients, with a
 * connection string or with an Entra token credential, one set of service clients per process.
 */

/** The token credential a setting set names. */
export function storageCredential(settings: StorageCredentialSettings): TokenCredential {
  // Loaded only for identity-based settings: it takes longer to load than the rest of the app's storage code.
  const identity: typeof import('@azure/identity') = require('@azure/identity'); // eslint-disable-line @typescript-eslint/no-require-imports
  const { ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential } = identity;
  switch (settings.type) {
    case 'managedIdentity':
      return settings.resourceId
        ? new ManagedIdentityCredential({ resourceId: settings.resourceId })
        : new ManagedIdentityCredential({ clientId: settings.clientId });
    case 'clientSecret':
      return new ClientSecretCredential(settings.tenantId, settings.clientId, settings.clientSecret);
    case 'developer':
      return new DefaultAzureCredential();
  }
}

/** Clients for one storage account; service clients and the credential are made once and shared. */
export interface StorageAccount {
  readonly connection: StorageConnection;
  tableService(): TableServiceClient;
  table(tableName: string): TableClient;
  queueService(): QueueServiceClient;
  queue(queueName: string): QueueClient;
}

/**
 * Policies of the SDK's default pipeline that do nothing for Table Storage calls but cost CPU on
 * every one (about a tenth of a point read's, docs/benchmarks.md): `tracingPolicy` parses and
 * sanitizes the URL to start a span that stays a no-op, since the Azure SDK instrumentation is not
 * registered (telemetry.ts traces storage calls at the node:http level); the service never sends
 * form data or multipart bodies, is never redirected by storage and is answered uncompressed; and
 * `x-ms-client-request-id` is read by nothing (storage logs its own `x-ms-request-id`). Retries,
 * signing, the proxy settings, the user agent and AZURE_LOG_LEVEL logging stay.
 */
const idleTablePolicies = [
  'tracingPolicy',
  'formDataPolicy',
  'multipartPolicy',
  'redirectPolicy',
  'decompressResponsePolicy',
  'setClientRequestIdPolicy',
];

function withoutIdlePolicies<T extends TableClient | TableServiceClient>(client: T): T {
  for (const name of idleTablePolicies) client.pipeline.removePolicy({ name });
  return client;
}

/** Azurite speaks plain HTTP; a real account never does. */
function allowsHttp(connectionString: string): boolean {
  return /UseDevelopmentStorage=true|^DefaultEndpointsProtocol=http;|=http:\/\//i.test(connectionString);
}

export function connectStorage(connection: StorageConnection): StorageAccount {
  // Every call on a bounded budget (storageBudget.ts).
  const tableOptions = (extra: { allowInsecureConnection?: boolean } = {}) => ({
    ...extra,
    retryOptions: tableRetryOptions(),
    additionalPolicies: tablePolicies(),
  });
  const queueOptions = { retryOptions: queueRetryOptions() };
  let credential: TokenCredential | undefined;
  const tokenCredential = (): TokenCredential => (credential ??= storageCredential(identity().credential));
  const identity = () => connection as Extract<StorageConnection, { kind: 'identity' }>;
  const serviceUri = (service: StorageService): string => {
    const uri = identity().serviceUris[service];
    if (!uri) {
      throw new Error(
        `${hostStorageConnectionName}__${serviceUriSettings[service]} (or ${hostStorageConnectionName}__accountName) must be set to reach the ${service} service.`,
      );
    }
    return uri;
  };

  let tableService: TableServiceClient | undefined;
  let queueService: QueueServiceClient | undefined;
  return {
    connection,
    tableService: () =>
      (tableService ??= withoutIdlePolicies(
        connection.kind === 'connectionString'
          ? TableServiceClient.fromConnectionString(
              connection.connectionString,
              tableOptions({ allowInsecureConnection: allowsHttp(connection.connectionString) }),
            )
          : new TableServiceClient(serviceUri('table'), tokenCredential(), tableOptions()),
      )),
    table: (tableName) =>
      withoutIdlePolicies(
        connection.kind === 'connectionString'
          ? TableClient.fromConnectionString(
              connection.connectionString,
              tableName,
              tableOptions({ allowInsecureConnection: allowsHttp(connection.connectionString) }),
            )
          : new TableClient(serviceUri('table'), tableName, tokenCredential(), tableOptions()),
      ),
    queueService: () =>
      (queueService ??=
        connection.kind === 'connectionString'
          ? QueueServiceClient.fromConnectionString(connection.connectionString, queueOptions)
          : new QueueServiceClient(serviceUri('queue'), tokenCredential(), queueOptions)),
    queue(queueName) {
      return this.queueService().getQueueClient(queueName);
    },
  };
}

let current: StorageAccount | undefined;

/** The process-wide account, from the configuration. */
export function storageAccount(): StorageAccount {
  current ??= connectStorage(config().storage);
  return current;
}
