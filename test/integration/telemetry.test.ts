import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { ensureLocalCertificate } from '../../scripts/certificate';
import { loadTelemetryConfig } from '../../shared/config';

/**
 * With APPLICATIONINSIGHTS_CONNECTION_STRING set, the app's logs and outgoing calls reach
 * Application Insights' ingestion API (without it telemetry is off: functionsRuntime.test.ts). The app runs in a child process loaded
 * as the Functions worker loads it (jest's module registry bypasses the require hooks that
 * OpenTelemetry instrumentations rely on), against a local stand-in for the ingestion endpoint
 * (HTTPS, which the exporter insists on, with the local host's kind of self-signed certificate,
 * trusted by the child).
 */

interface Envelope {
  iKey?: string;
  data?: { baseType?: string; baseData?: Record<string, unknown> };
}

let ingestion: Server;
let ingestionUrl: string;
let certificateFile: string;
const received: Envelope[] = [];
const run = promisify(execFile);

beforeAll(async () => {
  const certificate = await ensureLocalCertificate(mkdtempSync(path.join(tmpdir(), 'ingestion-')));
  certificateFile = certificate.certFile;
  ingestion = createServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const items = JSON.parse(text) as Envelope[];
      received.push(...items);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => ingestion.listen(0, '127.0.0.1', resolve));
  const address = ingestion.address();
  ingestionUrl = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});

afterAll(() => new Promise<void>((resolve) => ingestion.close(() => resolve())));

const root = path.join(__dirname, '..', '..');

async function runApp(env: NodeJS.ProcessEnv): Promise<{ capabilities: Record<string, string>; statuses: number[] }> {
  const { stdout } = await run(
    process.execPath,
    ['-r', path.join(root, 'test', 'support', 'tsRequire.js'), path.join(root, 'test', 'support', 'telemetryRun.ts')],
    {
      cwd: root,
      env: {
        ...process.env,
        // No calls to Microsoft's own SDK-statistics endpoint from a test.
        APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
        APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
        NODE_EXTRA_CA_CERTS: certificateFile,
        ...env,
      },
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

const instrumentationKey = '8e2f3a1c-0d4b-4c5e-9f6a-7b8c9d0e1f2a';

describe('OpenTelemetry', () => {
  it('exports the request lines as logs and storage calls as dependencies', async () => {
    const run = await runApp({
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${instrumentationKey};IngestionEndpoint=${ingestionUrl}`,
    });
    expect(run.statuses).toEqual([200, 200]);
    // The host is told the worker sends its own logs, so they are not sent twice.
    expect(run.capabilities).toMatchObject({ WorkerOpenTelemetryEnabled: 'true' });
    expect(received.every((envelope) => envelope.iKey === instrumentationKey)).toBe(true);
    const messages = received
      .filter((envelope) => envelope.data?.baseType === 'MessageData')
      .map((envelope) => String(envelope.data?.baseData?.message));
    const requestLines = messages.filter((message) => message.includes('"event":"request"'));
    expect(requestLines).toHaveLength(2);
    expect(requestLines[1]).toContain('"route":"v1.0/tenantRelationships/delegatedAdminRelationships"');
    // Table Storage calls (the token's tenant, the relationships list) as dependencies.
    const dependencies = received
      .filter((envelope) => envelope.data?.baseType === 'RemoteDependencyData')
      .map((envelope) => String(envelope.data?.baseData?.name));
    expect(dependencies).toContainEqual(expect.stringMatching(/^GET \/devstoreaccount1\/t\w+Tenants\(\)/));
  });
});

describe('telemetry settings', () => {
  it('reads Entra authentication as the Functions host does', () => {
    const connectionString = `InstrumentationKey=${instrumentationKey}`;
    expect(loadTelemetryConfig({})).toBeUndefined();
    expect(loadTelemetryConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString })).toEqual({
      connectionString,
    });
    expect(
      loadTelemetryConfig({
        APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD',
      }),
    ).toEqual({ connectionString, entra: { clientId: '11111111-2222-3333-4444-555555555555' } });
    expect(
      loadTelemetryConfig({
        APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD',
      }),
    ).toEqual({ connectionString, entra: {} });
  });
});
