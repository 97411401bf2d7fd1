import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { ensureLocalCertificate, generateLocalCertificate } from '../../scripts/certificate';

/** The certificate `npm start -- --https` generates, keeps and replaces. */
describe('local HTTPS certificate', () => {
  let directory: string;
  beforeEach(async () => {
    directory = path.join(await mkdtemp(path.join(tmpdir(), 'gdap-certs-')), '.certs');
  });
  afterEach(() => rm(path.dirname(directory), { recursive: true, force: true }));

  it('is generated for localhost and 127.0.0.1, valid for a year, its key readable by the owner alone', async () => {
    const now = new Date('2030-05-01T00:00:00Z');
    const files = await ensureLocalCertificate(directory, now);
    expect(files).toMatchObject({
      generated: true,
      certFile: path.join(directory, 'localhost.crt'),
      keyFile: path.join(directory, 'localhost.key'),
    });
    const cert = new X509Certificate(files.cert);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(cert.ca).toBe(false);
    expect(new Date(cert.validFrom).toISOString()).toBe('2030-05-01T00:00:00.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2031-05-01T00:00:00.000Z');
    expect((await stat(files.keyFile)).mode & 0o777).toBe(0o600);
  });

  it('is reused while valid and replaced within a day of its end or when its key does not match', async () => {
    const first = await ensureLocalCertificate(directory, new Date('2030-05-01T00:00:00Z'));
    const reused = await ensureLocalCertificate(directory, new Date('2031-04-29T00:00:00Z'));
    expect(reused).toMatchObject({ generated: false, cert: first.cert, key: first.key });

    const renewed = await ensureLocalCertificate(directory, new Date('2031-04-30T12:00:00Z'));
    expect(renewed.generated).toBe(true);
    expect(renewed.cert).not.toBe(first.cert);

    // A key from another pair (a half-finished copy, say): the pair is made anew.
    await writeFile(renewed.keyFile, (await generateLocalCertificate()).key);
    const rekeyed = await ensureLocalCertificate(directory, new Date('2031-06-01T00:00:00Z'));
    expect(rekeyed.generated).toBe(true);
    expect(new X509Certificate(rekeyed.cert).checkPrivateKey(createPrivateKey(rekeyed.key))).toBe(true);
  });

  it('is trusted by name and by address by a client that trusts it, and by nobody else', async () => {
    const { cert, key } = await generateLocalCertificate();
    const server = createServer({ cert, key }, (_request, response) => response.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const trusting = new Agent({ connect: { ca: cert } });
    try {
      for (const name of ['localhost', '127.0.0.1']) {
        const response = await fetch(`https://${name}:${port}/`, { dispatcher: trusting });
        expect(await response.text()).toBe('hello');
      }
      const untrusted = await fetch(`https://localhost:${port}/`).catch((error: Error) => error.cause);
      expect(untrusted).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    } finally {
      await trusting.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
