import { ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { loadConfig } from '../../shared/config';
import { connectStorage, storageCredential } from '../../shared/store/storageAccount';
import { readStorageConnection, StorageConnection } from '../../shared/storageSettings';

/**
 * Which account, endpoints and credential each set of AzureWebJobsStorage settings gives, as the
 * Functions runtime reads them (connection string, or identity-based `AzureWebJobsStorage__*`).
 */

/** The credential an identity-based connection builds. */
function credentialOf(connection: StorageConnection) {
  if (connection.kind !== 'identity') throw new Error('expected identity-based settings');
  return storageCredential(connection.credential);
}

const devKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

describe('storage settings: connection strings', () => {
  it('UseDevelopmentStorage=true reaches Azurite on its default ports', () => {
    const connection = readStorageConnection({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    expect(connection).toEqual({ kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' });
    const account = connectStorage(connection);
    expect(account.tableService().url).toBe('http://127.0.0.1:10002/devstoreaccount1');
    expect(account.queueService().url).toBe('http://127.0.0.1:10001/devstoreaccount1');
    expect(account.queue('jobs').url).toBe('http://127.0.0.1:10001/devstoreaccount1/jobs');
  });

  it('takes each service from its own endpoint in an explicit Azurite connection string', () => {
    const connectionString =
      `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${devKey};` +
      'TableEndpoint=http://127.0.0.1:41002/devstoreaccount1;QueueEndpoint=http://127.0.0.1:41001/devstoreaccount1;';
    const account = connectStorage(readStorageConnection({ AzureWebJobsStorage: connectionString }));
    expect(account.tableService().url).toBe('http://127.0.0.1:41002/devstoreaccount1');
    expect(account.table('Tenants').url).toBe('http://127.0.0.1:41002/devstoreaccount1');
    expect(account.queue('jobs').url).toBe('http://127.0.0.1:41001/devstoreaccount1/jobs');
  });

  it('reads a real account’s key-based connection string', () => {
    const connectionString = `DefaultEndpointsProtocol=https;AccountName=gdapprod;AccountKey=${devKey};EndpointSuffix=core.windows.net`;
    const account = connectStorage(readStorageConnection({ AzureWebJobsStorage: connectionString }));
    expect(account.tableService().url).toBe('https://gdapprod.table.core.windows.net');
    expect(account.queueService().url).toBe('https://gdapprod.queue.core.windows.net');
  });

  it('defaults to Azurite when nothing is set, as local.settings.json does', () => {
    expect(readStorageConnection({})).toEqual({
      kind: 'connectionString',
      connectionString: 'UseDevelopmentStorage=true',
    });
    expect(readStorageConnection({ AzureWebJobsStorage: '  ' }).kind).toBe('connectionString');
  });

  it('prefers the exact setting over identity-based ones, as the runtime does', () => {
    const connection = readStorageConnection({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      AzureWebJobsStorage__accountName: 'gdapprod',
      AzureWebJobsStorage__credential: 'managedidentity',
    });
    expect(connection.kind).toBe('connectionString');
  });

  it('is what the configuration carries', () => {
    const env = { AzureWebJobsStorage__accountName: 'gdapprod', AzureWebJobsStorage__credential: 'managedidentity' };
    expect(loadConfig(env).storage).toEqual(readStorageConnection(env));
  });
});

describe('storage clients: the request pipeline', () => {
  const policiesOf = (client: { pipeline: { getOrderedPolicies(): { name: string }[] } }): string[] =>
    client.pipeline.getOrderedPolicies().map((policy) => policy.name);

  it('keeps retries, signing, the budget, proxy, user agent and logging, without the idle policies', () => {
    const account = connectStorage(readStorageConnection({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }));
    for (const client of [account.table('Tenants'), account.tableService()]) {
      const names = policiesOf(client);
      expect(names).toEqual(
        expect.arrayContaining([
          'defaultRetryPolicy',
          'tablesNamedKeyCredentialPolicy',
          'storageCallBudget',
          'storageTableNotFound',
          'storageTryTimeout',
          'proxyPolicy',
          'userAgentPolicy',
          'logPolicy',
        ]),
      );
      expect(names).not.toEqual(expect.arrayContaining(['tracingPolicy']));
      expect(names).not.toEqual(expect.arrayContaining(['setClientRequestIdPolicy']));
    }
  });
});

describe('storage settings: identity-based connections', () => {
  it('a user-assigned managed identity with service URIs (what infra/ deploys)', () => {
    const connection = readStorageConnection({
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: '11111111-2222-3333-4444-555555555555',
      // Bicep's primaryEndpoints end with a slash.
      AzureWebJobsStorage__blobServiceUri: 'https://gdapprod.blob.core.windows.net/',
      AzureWebJobsStorage__queueServiceUri: 'https://gdapprod.queue.core.windows.net/',
      AzureWebJobsStorage__tableServiceUri: 'https://gdapprod.table.core.windows.net/',
    });
    expect(connection).toEqual({
      kind: 'identity',
      credential: { type: 'managedIdentity', clientId: '11111111-2222-3333-4444-555555555555' },
      serviceUris: {
        blob: 'https://gdapprod.blob.core.windows.net',
        queue: 'https://gdapprod.queue.core.windows.net',
        table: 'https://gdapprod.table.core.windows.net',
      },
    });
    const credential = credentialOf(connection);
    expect(credential).toBeInstanceOf(ManagedIdentityCredential);
    // The user-assigned identity it asks tokens for.
    expect(credential).toMatchObject({ clientId: '11111111-2222-3333-4444-555555555555' });
    const account = connectStorage(connection);
    expect(account.tableService().url).toBe('https://gdapprod.table.core.windows.net');
    expect(account.table('Tenants')).toMatchObject({
      url: 'https://gdapprod.table.core.windows.net',
      tableName: 'Tenants',
    });
    expect(account.queue('jobs').url).toBe('https://gdapprod.queue.core.windows.net/jobs');
  });

  it('__accountName infers the public-cloud endpoints; an explicit URI still wins', () => {
    const connection = readStorageConnection({
      AzureWebJobsStorage__accountName: 'gdapprod',
      AzureWebJobsStorage__queueServiceUri: 'https://queues.example.internal',
    });
    expect(connection).toMatchObject({
      kind: 'identity',
      serviceUris: {
        table: 'https://gdapprod.table.core.windows.net',
        queue: 'https://queues.example.internal',
        blob: 'https://gdapprod.blob.core.windows.net',
      },
    });
  });

  it('matches setting names and the credential value case-insensitively', () => {
    const connection = readStorageConnection({
      azurewebjobsstorage__accountname: 'gdapprod',
      AzureWebJobsStorage__Credential: 'ManagedIdentity',
      AZUREWEBJOBSSTORAGE__CLIENTID: 'cid',
    });
    expect(connection).toMatchObject({ kind: 'identity', credential: { type: 'managedIdentity', clientId: 'cid' } });
  });

  it('managedidentity without a client id is the system-assigned identity, or AZURE_CLIENT_ID’s', () => {
    const base = { AzureWebJobsStorage__accountName: 'gdapprod', AzureWebJobsStorage__credential: 'managedidentity' };
    expect(readStorageConnection(base)).toMatchObject({ credential: { type: 'managedIdentity', clientId: undefined } });
    expect(readStorageConnection({ ...base, AZURE_CLIENT_ID: 'from-sdk-env' })).toMatchObject({
      credential: { type: 'managedIdentity', clientId: 'from-sdk-env' },
    });
  });

  it('names a user-assigned identity by resource id, but not by both ids', () => {
    const base = {
      AzureWebJobsStorage__accountName: 'gdapprod',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__managedIdentityResourceId: '/subscriptions/s/resourceGroups/g/providers/x/id-api',
    };
    const connection = readStorageConnection(base);
    expect(connection).toMatchObject({
      credential: { type: 'managedIdentity', resourceId: base.AzureWebJobsStorage__managedIdentityResourceId },
    });
    expect(credentialOf(connection)).toBeInstanceOf(ManagedIdentityCredential);
    expect(() => readStorageConnection({ ...base, AzureWebJobsStorage__clientId: 'cid' })).toThrow(/only one/);
  });

  it('without __credential (local development): a service principal, else the developer’s sign-in', () => {
    const servicePrincipal = readStorageConnection({
      AzureWebJobsStorage__accountName: 'gdapdev',
      AzureWebJobsStorage__tenantId: 'tid',
      AzureWebJobsStorage__clientId: 'cid',
      AzureWebJobsStorage__clientSecret: 'secret',
    });
    expect(servicePrincipal).toMatchObject({
      credential: { type: 'clientSecret', tenantId: 'tid', clientId: 'cid', clientSecret: 'secret' },
    });
    expect(credentialOf(servicePrincipal)).toBeInstanceOf(ClientSecretCredential);

    const developer = readStorageConnection({ AzureWebJobsStorage__accountName: 'gdapdev' });
    expect(developer).toMatchObject({ kind: 'identity', credential: { type: 'developer' } });
    expect(credentialOf(developer)).toBeInstanceOf(DefaultAzureCredential);
  });

  it('refuses a credential kind it does not know', () => {
    expect(() =>
      readStorageConnection({ AzureWebJobsStorage__accountName: 'a', AzureWebJobsStorage__credential: 'password' }),
    ).toThrow(/managedidentity/);
  });

  it('says which setting is missing when a service has no URI', () => {
    const account = connectStorage(
      readStorageConnection({
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__blobServiceUri: 'https://gdapprod.blob.core.windows.net',
      }),
    );
    expect(() => account.tableService()).toThrow(/AzureWebJobsStorage__tableServiceUri/);
    expect(() => account.queue('jobs')).toThrow(/AzureWebJobsStorage__queueServiceUri/);
  });
});
