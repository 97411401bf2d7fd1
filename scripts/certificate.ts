import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** `selfsigned` is loaded only to generate (most starts reuse a stored certificate): a few MiB of heap saved. */
const loadSelfsigned = (): Promise<typeof import('selfsigned')> => import('selfsigned');

/**
 * The self-signed certificate `npm start -- --https` serves: one certificate for `localhost` and
 * `127.0.0.1`, kept in a folder so a client trusts it once (NODE_EXTRA_CA_CERTS, a trust store)
 * and keeps trusting it across restarts.
 */

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** False when the files were already there and still good. */
  generated: boolean;
}

/** The names the certificate covers, as subjectAltName entries (a DNS name and an IP address). */
const localNames = { dns: 'localhost', ip: '127.0.0.1' };

/** Within this long of its end the certificate is replaced rather than reused. */
const renewBeforeMs = 24 * 60 * 60 * 1000;

/** Reuses `localhost.crt`/`localhost.key` in `directory` while they are valid, or writes new ones. */
export async function ensureLocalCertificate(directory: string, now = new Date()): Promise<CertificateFiles> {
  const certFile = path.resolve(directory, 'localhost.crt');
  const keyFile = path.resolve(directory, 'localhost.key');
  const existing = await readPair(certFile, keyFile);
  if (existing && isUsable(existing.cert, existing.key, now)) {
    return { certFile, keyFile, ...existing, generated: false };
  }
  const { cert, key } = await generateLocalCertificate(now);
  await mkdir(path.dirname(certFile), { recursive: true });
  await writeFile(keyFile, key, { mode: 0o600 });
  await writeFile(certFile, cert);
  return { certFile, keyFile, cert, key, generated: true };
}

/** A new P-256 certificate for localhost and 127.0.0.1, valid for a year from `now`. */
export async function generateLocalCertificate(now = new Date()): Promise<{ cert: string; key: string }> {
  const notAfterDate = new Date(now);
  notAfterDate.setUTCFullYear(notAfterDate.getUTCFullYear() + 1);
  const pems = await (
    await loadSelfsigned()
  ).generate([{ name: 'commonName', value: localNames.dns }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate,
    extensions: [
      // A server certificate that is its own trust anchor: not a CA, so it cannot sign others.
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: localNames.dns },
          { type: 7, ip: localNames.ip },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

async function readPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string } | undefined> {
  try {
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Not expiring within a day, covering both names, and matching its key (a half-written pair is not). */
function isUsable(certPem: string, keyPem: string, now: Date): boolean {
  try {
    const cert = new X509Certificate(certPem);
    return (
      new Date(cert.validTo).getTime() - now.getTime() > renewBeforeMs &&
      new Date(cert.validFrom).getTime() <= now.getTime() &&
      cert.checkHost(localNames.dns) !== undefined &&
      cert.checkIP(localNames.ip) !== undefined &&
      cert.checkPrivateKey(createPrivateKey(keyPem))
    );
  } catch {
    return false;
  }
}
