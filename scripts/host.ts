/**
 * `npm start`: Azurite (unless AzureWebJobsStorage settings name an account) plus the local host on
 * http://127.0.0.1:7071, sandbox on unless SANDBOX_MODE says otherwise. HTTPS instead with
 * TLS_CERT_FILE and TLS_KEY_FILE, or with `--https` and a generated certificate. `--no-queues`
 * leaves the queue triggers (webhook delivery) to another instance: messages wait in their queues.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultAzuritePorts, RunningAzurite, startAzurite } from './azurite';
import { ensureLocalCertificate } from './certificate';
import { loadFunctions, startLocalHost, TlsOptions } from './localHost';

/** Where `--https` keeps its certificate (git-ignored), so clients trust it once. */
const generatedCertificateDirectory = '.certs';

/** TLS_CERT_FILE + TLS_KEY_FILE (PEM) first; else with `--https` the generated certificate; else none (HTTP). */
async function tlsOptions(): Promise<TlsOptions | undefined> {
  const certFile = process.env.TLS_CERT_FILE || undefined;
  const keyFile = process.env.TLS_KEY_FILE || undefined;
  if (certFile || keyFile) {
    if (!certFile || !keyFile) throw new Error('Set both TLS_CERT_FILE and TLS_KEY_FILE (PEM), or neither.');
    return { cert: await readFile(certFile), key: await readFile(keyFile) };
  }
  if (!process.argv.slice(2).includes('--https')) return undefined;
  const certificate = await ensureLocalCertificate(generatedCertificateDirectory);
  console.log(
    `${certificate.generated ? 'Generated' : 'Reusing'} the self-signed certificate for localhost and 127.0.0.1: ` +
      `${certificate.certFile} (key ${certificate.keyFile}).\n` +
      `Trust it: NODE_EXTRA_CA_CERTS=${certificate.certFile} for Node clients (read at process start), ` +
      `curl --cacert ${certificate.certFile}, or your system's trust store for Graph PowerShell and browsers.`,
  );
  return { cert: certificate.cert, key: certificate.key };
}

/**
 * host.json's queue settings; LOCAL_QUEUE_LEASE_SECONDS shortens how long a message taken by a
 * host that then dies stays hidden (the runtime's 10 minutes), for crash tests of this host only.
 */
function queueSettings(): true | { leaseMs: number } {
  const lease = Number(process.env.LOCAL_QUEUE_LEASE_SECONDS);
  return Number.isFinite(lease) && lease > 0 ? { leaseMs: lease * 1000 } : true;
}

async function main(): Promise<void> {
  process.env.SANDBOX_MODE ??= 'true';
  // Before Azurite, so a missing certificate file stops the start with nothing left running.
  const tls = await tlsOptions();
  let azurite: RunningAzurite | undefined;
  // A connection string or identity-based settings (AzureWebJobsStorage__…) name an account.
  const storageGiven = Object.entries(process.env).some(
    ([name, value]) => /^AzureWebJobsStorage($|__)/i.test(name) && value?.trim(),
  );
  if (!storageGiven) {
    // Azurite's default ports; a service already listening there is used as it is.
    azurite = await startAzurite({
      inMemory: false,
      location: '.azurite',
      port: defaultAzuritePorts.table,
      queuePort: defaultAzuritePorts.queue,
    });
    process.env.AzureWebJobsStorage = azurite.connectionString;
    console.log(
      `Azurite Tables on http://127.0.0.1:${azurite.port}, Queues on http://127.0.0.1:${azurite.queuePort} (data in .azurite/).`,
    );
  }
  // Configuration is read on first use, so functions load only after the environment is final.
  loadFunctions(path.join(__dirname, '..', 'functions'));
  const port = Number(process.env.PORT ?? 7071);
  const host = await startLocalHost({
    port,
    hostname: process.env.HOST ?? '127.0.0.1',
    runTimers: true,
    runQueues: process.argv.slice(2).includes('--no-queues') ? false : queueSettings(),
    tls,
  });
  console.log(`GDAP service listening on ${host.url} (sandbox ${process.env.SANDBOX_MODE === 'true' ? 'on' : 'off'}).`);

  const shutdown = async (): Promise<void> => {
    await host.close();
    await azurite?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
