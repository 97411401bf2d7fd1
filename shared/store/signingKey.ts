import { createPrivateKey, KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import { config } from '../config';
import { ensureTables, isStatus, tableClient, tableNames } from './tables';

/** `selfsigned` is loaded only to generate (most starts reuse a stored certificate): a few MiB of heap saved. */
const loadSelfsigned = (): Promise<typeof import('selfsigned')> => import('selfsigned');

/**
 * The key that signs webhook events and the certificate receivers verify them with (SPEC §16).
 * Configured (WEBHOOK_SIGNING_KEY/_CERTIFICATE, config.ts), or generated once and kept in the
 * Settings table: the first instance to store its key wins, and one that loses reads the winner's,
 * so every instance signs with the key the certificate URL serves. A configured key (from Key
 * Vault, say) is the production choice: a stored one is as safe as the storage account.
 */
export interface SigningKey {
  privateKey: KeyObject;
  certificatePem: string;
}

const partitionKey = 'webhooks';
const rowKey = 'signingKey';
const certificateYears = 5;

let loading: Promise<SigningKey> | undefined;

export function signingKey(): Promise<SigningKey> {
  loading ??= loadSigningKey().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function loadSigningKey(): Promise<SigningKey> {
  const configured = config().webhooks.signing;
  const pems = configured ?? (await storedOrGenerated());
  const key = { privateKey: createPrivateKey(pems.keyPem), certificatePem: pems.certificatePem };
  assertPair(key);
  return key;
}

/** A configured key must be the certificate's: signing with another would fail every receiver's check. */
function assertPair(key: SigningKey): void {
  const probe = Buffer.from('webhook signing key check');
  const certificate = new X509Certificate(key.certificatePem);
  if (!verify('sha256', probe, certificate.publicKey, sign('sha256', probe, key.privateKey))) {
    throw new Error('The webhook signing key does not belong to the webhook signing certificate.');
  }
}

async function storedOrGenerated(): Promise<{ keyPem: string; certificatePem: string }> {
  await ensureTables();
  const settings = tableClient(tableNames.settings);
  const read = async () => {
    const row = await settings.getEntity<{ keyPem: string; certificatePem: string }>(partitionKey, rowKey);
    return { keyPem: row.keyPem, certificatePem: row.certificatePem };
  };
  try {
    return await read();
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
  const notAfterDate = new Date();
  notAfterDate.setUTCFullYear(notAfterDate.getUTCFullYear() + certificateYears);
  const generated = await (
    await loadSelfsigned()
  ).generate([{ name: 'commonName', value: 'GDAP service webhook signing' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
    ],
  });
  try {
    await settings.createEntity({ partitionKey, rowKey, keyPem: generated.private, certificatePem: generated.cert });
    return { keyPem: generated.private, certificatePem: generated.cert };
  } catch (error) {
    // Another instance stored its key first: everyone signs with that one.
    if (isStatus(error, 409)) return read();
    throw error;
  }
}

/** RSA-SHA256 over the exact body bytes, base64: the `Signature` value (SPEC §16). */
export async function signBody(body: string): Promise<string> {
  const { privateKey } = await signingKey();
  return sign('sha256', Buffer.from(body, 'utf8'), privateKey).toString('base64');
}
