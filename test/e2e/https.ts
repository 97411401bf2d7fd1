import { Agent } from 'undici';
import { generateLocalCertificate } from '../../scripts/certificate';
import { Client, startTestHost, TestHost } from './support';

export interface HttpsTestHost extends TestHost {
  /** The host's self-signed certificate (PEM), the one thing a client must trust. */
  certificate: string;
  /** An undici Agent trusting that certificate, for fetch's `dispatcher` option. */
  dispatcher: Agent;
  /** The support client over HTTPS (minting sandbox tokens, plain calls). */
  client: Client;
}

/**
 * The local host over HTTPS with a certificate made for this test file by the same code as
 * `npm start -- --https`, addressed as https://localhost:{port} (the certificate names both
 * localhost and 127.0.0.1). NODE_EXTRA_CA_CERTS is read only when a process starts, so clients
 * here trust the certificate through an undici Agent instead.
 */
export async function startHttpsTestHost(): Promise<HttpsTestHost> {
  const { cert, key } = await generateLocalCertificate();
  const host = await startTestHost({ tls: { cert, key } });
  const url = host.url.replace('://127.0.0.1:', '://localhost:');
  const dispatcher = new Agent({ connect: { ca: cert } });
  return {
    url,
    certificate: cert,
    dispatcher,
    client: new Client(url, dispatcher),
    close: async () => {
      await host.close();
      await dispatcher.close();
    },
  };
}
