/**
 * The storage account the app runs on, read from the `AzureWebJobsStorage` settings the way the
 * Functions runtime reads them (learn.microsoft.com/azure/azure-functions/functions-reference,
 * "Connecting to host storage with an identity"), so the app's own clients and the runtime's
 * queue triggers and timer locks always reach the same account with the same identity:
 *
 * - `AzureWebJobsStorage` set to a value: a connection string (`UseDevelopmentStorage=true`,
 *   Azurite's explicit `TableEndpoint=…;QueueEndpoint=…` strings, or a real account's keys). An
 *   exact setting wins over prefixed ones, as in the runtime.
 * - otherwise the `AzureWebJobsStorage__*` settings: service URIs (`__tableServiceUri`,
 *   `__queueServiceUri`, `__blobServiceUri`; `__accountName` infers `https://{name}.{service}.core.windows.net`
 *   for those not given) and a credential: `__credential=managedidentity` (the user-assigned
 *   identity `__clientId` or `__managedIdentityResourceId`, else the system-assigned one), or, when
 *   `__credential` is unset (local development), a service principal from `__tenantId`, `__clientId`
 *   and `__clientSecret`, else the developer's own sign-in (Azure CLI, VS Code, environment).
 *
 * Setting names after the `__` are matched case-insensitively, as the runtime's configuration does.
 */

export type StorageService = 'table' | 'queue' | 'blob';

export type StorageCredentialSettings =
  | { type: 'managedIdentity'; clientId?: string; resourceId?: string }
  | { type: 'clientSecret'; tenantId: string; clientId: string; clientSecret: string }
  | { type: 'developer' };

export type StorageConnection =
  | { kind: 'connectionString'; connectionString: string }
  | {
      kind: 'identity';
      credential: StorageCredentialSettings;
      /** Without a trailing slash; a service absent here cannot be reached. */
      serviceUris: Partial<Record<StorageService, string>>;
    };

/** The connection the runtime uses for its own state and, by default, for queue triggers. */
export const hostStorageConnectionName = 'AzureWebJobsStorage';

export const serviceUriSettings: Record<StorageService, string> = {
  table: 'tableServiceUri',
  queue: 'queueServiceUri',
  blob: 'blobServiceUri',
};

/** Reads one connection's settings. Pure: tests pass any environment. */
export function readStorageConnection(
  env: NodeJS.ProcessEnv,
  connectionName: string = hostStorageConnectionName,
): StorageConnection {
  const exact = env[connectionName]?.trim();
  if (exact) return { kind: 'connectionString', connectionString: exact };

  const prefix = `${connectionName}__`.toLowerCase();
  const properties = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (name.toLowerCase().startsWith(prefix) && value?.trim()) {
      properties.set(name.slice(prefix.length).toLowerCase(), value.trim());
    }
  }
  const property = (name: string): string | undefined => properties.get(name.toLowerCase());
  const accountName = property('accountName');
  const serviceUris: Partial<Record<StorageService, string>> = {};
  for (const [service, setting] of Object.entries(serviceUriSettings) as [StorageService, string][]) {
    const uri = property(setting) ?? (accountName && `https://${accountName}.${service}.core.windows.net`);
    if (uri) serviceUris[service] = uri.replace(/\/+$/, '');
  }
  if (Object.keys(serviceUris).length === 0) {
    // Nothing configured at all: Azurite on its default ports, as Core Tools' local.settings.json has it.
    return { kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' };
  }
  return { kind: 'identity', credential: readCredential(connectionName, property, env), serviceUris };
}

function readCredential(
  connectionName: string,
  property: (name: string) => string | undefined,
  env: NodeJS.ProcessEnv,
): StorageCredentialSettings {
  const credential = property('credential')?.toLowerCase();
  const clientId = property('clientId');
  if (credential === 'managedidentity') {
    const resourceId = property('managedIdentityResourceId');
    if (clientId && resourceId) {
      throw new Error(
        `${connectionName}__clientId and ${connectionName}__managedIdentityResourceId name the same identity twice: set only one.`,
      );
    }
    // AZURE_CLIENT_ID is the Azure SDK's default for a connection that names no identity.
    const userAssigned = clientId ?? (resourceId ? undefined : env.AZURE_CLIENT_ID?.trim() || undefined);
    return { type: 'managedIdentity', clientId: userAssigned, resourceId };
  }
  if (credential !== undefined) {
    throw new Error(
      `${connectionName}__credential must be "managedidentity" (or unset for local development), not "${credential}".`,
    );
  }
  const tenantId = property('tenantId');
  const clientSecret = property('clientSecret');
  if (tenantId && clientId && clientSecret) return { type: 'clientSecret', tenantId, clientId, clientSecret };
  return { type: 'developer' };
}
