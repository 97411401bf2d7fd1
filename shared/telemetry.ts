import { loadTelemetryConfig, TelemetryConfig } from './config';

/**
 * OpenTelemetry traces and logs to Application Insights, on only when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set (as the deployment sets it). The Functions runtime
 * loads this file before the function files (package.json `main`), so Microsoft's
 * `@azure/functions` instrumentation sees the library load: it sends the app's logs (the request
 * and job lines of log.ts) as log records, tells the host not to send them twice, and runs each
 * invocation in the host's trace context. Outgoing HTTP calls (storage, JWKS, webhook receivers)
 * become dependency spans. Nothing here is loaded when telemetry is off.
 */

export interface Telemetry {
  /** Sends what is buffered, then stops exporting (the runtime calls it when the app stops). */
  shutdown(): Promise<void>;
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded only when telemetry is on */
export function startTelemetry(settings: TelemetryConfig): Telemetry {
  const { AzureMonitorLogExporter, AzureMonitorTraceExporter } =
    require('@azure/monitor-opentelemetry-exporter') as typeof import('@azure/monitor-opentelemetry-exporter');
  const { BatchSpanProcessor, NodeTracerProvider } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { BatchLogRecordProcessor, LoggerProvider } =
    require('@opentelemetry/sdk-logs') as typeof import('@opentelemetry/sdk-logs');
  const { registerInstrumentations } =
    require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { AzureFunctionsInstrumentation } =
    require('@azure/functions-opentelemetry-instrumentation') as typeof import('@azure/functions-opentelemetry-instrumentation');
  const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const exporterOptions = {
    connectionString: settings.connectionString,
    // The deployment turns off the resource's local (key) authentication: tokens from the app's identity.
    credential: settings.entra ? new ManagedIdentityCredential({ clientId: settings.entra.clientId }) : undefined,
  };
  const tracerProvider = new NodeTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new AzureMonitorTraceExporter(exporterOptions))],
  });
  tracerProvider.register();
  const loggerProvider = new LoggerProvider({
    processors: [new BatchLogRecordProcessor(new AzureMonitorLogExporter(exporterOptions))],
  });
  registerInstrumentations({
    tracerProvider,
    loggerProvider,
    instrumentations: [new HttpInstrumentation(), new AzureFunctionsInstrumentation()],
  });
  return {
    // Instrumentations stay: unpatching @azure/functions would change its setup after start-up, which it refuses.
    shutdown: async () => {
      await Promise.all([tracerProvider.shutdown(), loggerProvider.shutdown()]);
    },
  };
}

const settings = loadTelemetryConfig(process.env);
if (settings) {
  const telemetry = startTelemetry(settings);
  // After the instrumentation: the library is loaded here for the first time, patched.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { app } = require('@azure/functions') as typeof import('@azure/functions');
  app.hook.appTerminate(() => telemetry.shutdown());
}
