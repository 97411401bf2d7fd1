import { readFileSync } from 'node:fs';
import { Duration } from 'luxon';
import { readStorageConnection, StorageConnection } from './storageSettings';

/**
 * One typed view of the environment, read once. Local versus cloud is decided here and nowhere
 * else: sandbox routes, development signing keys and the Azurite default all hang off these values.
 */
export interface AuthConfig {
  issuer: string;
  audience: string;
  /** Inline JWKS JSON (AUTH_JWKS) or a JWKS URL (AUTH_JWKS_URI); neither means "sandbox dev key". */
  jwks?: string;
  jwksUri?: string;
}

export interface PortalConfig {
  /** PORTAL_CLIENT_ID: the portal's app registration (a single-page application), no secret. */
  clientId?: string;
  /** PORTAL_AUTHORITY: where users sign in, e.g. https://login.microsoftonline.com/organizations. */
  authority: string;
}

export interface Config {
  /** The storage account: a connection string or identity-based settings (storageSettings.ts). */
  storage: StorageConnection;
  /** Prepended to every table and queue name, so several deployments (or test files) can share an account. */
  tablePrefix: string;
  sandboxMode: boolean;
  auth: AuthConfig;
  /** Base URL used in Location headers and @odata.context/@odata.nextLink when the request's own origin is unknown. */
  publicBaseUrl?: string;
  /** The customer's invitation link; `{id}` is the relationship id, `{baseUrl}` this service's base URL. */
  invitationUrlTemplate: string;
  /** The web portal's Microsoft Entra sign-in (SPEC §17); without a client id only the sandbox picker signs in. */
  portal: PortalConfig;
  maxBodyBytes: number;
  /** NCRONTAB schedule of each maintenance job, by job id (SPEC §4). */
  jobSchedules: Record<string, string>;
  /** How long a support access request may stay pending (ISO 8601 duration, SPEC §8.3). */
  supportAccessRequestPendingExpiry: string;
  /** How long another instance's change to a partner profile or tenant name may go unseen (0: always read). */
  readCacheSeconds: number;
  /** The tenant whose tokens may carry ServiceOperator (OPERATOR_TENANT_ID, SPEC §1). */
  operatorTenantId?: string;
  /** The tenant whose tokens may carry SupportEngineer (SUPPORT_TENANT_ID). */
  supportTenantId?: string;
  /** The most one storage call may take, retries included, before the request answers 503 (STORAGE_TIMEOUT_SECONDS). */
  storageTimeoutSeconds: number;
  webhooks: WebhookConfig;
}

/** Webhook delivery (SPEC §16). Waits and timeouts are real time, never the sandbox clock. */
export interface WebhookConfig {
  /** WEBHOOK_RETRY_SECONDS: the first retry's wait; the n-th waits this × 2^(n-1) (default 30). */
  retrySeconds: number;
  /** WEBHOOK_RETRY_MAX_SECONDS: the longest wait between attempts (default 3600). */
  retryMaxSeconds: number;
  /** WEBHOOK_TIMEOUT_SECONDS: how long an attempt waits for the receiver's answer (default 10). */
  timeoutSeconds: number;
  /**
   * The signing key and its certificate, PEM: WEBHOOK_SIGNING_KEY and WEBHOOK_SIGNING_CERTIFICATE
   * (the text, `\n` escapes allowed) or WEBHOOK_SIGNING_KEY_FILE and WEBHOOK_SIGNING_CERTIFICATE_FILE
   * (paths). Neither: a key is generated once and stored (shared/store/signingKey.ts).
   */
  signing?: { keyPem: string; certificatePem: string };
}

/** Every five minutes for state changes; warnings hourly; purging daily. Override with JOB_SCHEDULE_<jobId>. */
const defaultJobSchedules: Record<string, string> = {
  expirePendingRequests: '0 */5 * * * *',
  processEndDates: '0 */5 * * * *',
  sendExpiryWarnings: '0 0 * * * *',
  purgeEnded: '0 30 2 * * *',
  expireSupportAccessRequests: '0 */5 * * * *',
  publishEvents: '0 * * * * *',
  finishRelationshipChanges: '0 */5 * * * *',
  continueTemplateOnboarding: '0 * * * * *',
};

/** Pending support access requests expire after 4 days by default, as Azure Customer Lockbox requests. */
const defaultSupportAccessRequestPendingExpiry = 'P4D';

/** SUPPORT_ACCESS_REQUEST_PENDING_EXPIRY: a positive ISO 8601 duration such as P4D or PT12H. */
function pendingExpiry(value: string | undefined): string {
  if (value === undefined) return defaultSupportAccessRequestPendingExpiry;
  const duration = Duration.fromISO(value.toUpperCase());
  if (!duration.isValid || duration.toMillis() <= 0) {
    throw new Error('SUPPORT_ACCESS_REQUEST_PENDING_EXPIRY must be a positive ISO 8601 duration, e.g. P4D or PT12H.');
  }
  return value.toUpperCase();
}

/** A tenant id setting: a GUID, kept lower-case as tokens' tids are compared. */
function tenantIdSetting(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw new Error(`${name} must be a tenant id (a GUID).`);
  }
  return value.toLowerCase();
}

/** STORAGE_TIMEOUT_SECONDS: a positive number of seconds, fractions allowed (default 10). */
function storageTimeoutSeconds(value: string | undefined): number {
  if (value === undefined) return 10;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error('STORAGE_TIMEOUT_SECONDS must be a positive number of seconds, e.g. 10 or 2.5.');
  }
  return seconds;
}

/** READ_CACHE_SECONDS: a whole number of seconds, 0 or more (default 30). */
function readCacheSeconds(value: string | undefined): number {
  if (value === undefined) return 30;
  if (!/^\d+$/.test(value))
    throw new Error('READ_CACHE_SECONDS must be a whole number of seconds (0 turns the cache off).');
  return Number(value);
}

/** A positive number of seconds, fractions allowed (tests run the whole retry schedule in seconds). */
function positiveSeconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`${name} must be a positive number of seconds, e.g. 30 or 0.5.`);
  return parsed;
}

/** A PEM setting: its text (with `\n` escapes, as app settings often carry it) or a file holding it. */
function pem(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = env[name]?.trim();
  if (text) return text.replace(/\\n/g, '\n');
  const file = env[`${name}_FILE`]?.trim();
  return file ? readFileSync(file, 'utf8') : undefined;
}

function webhookConfig(
  env: NodeJS.ProcessEnv,
  nonEmpty: (value: string | undefined) => string | undefined,
): WebhookConfig {
  const keyPem = pem(env, 'WEBHOOK_SIGNING_KEY');
  const certificatePem = pem(env, 'WEBHOOK_SIGNING_CERTIFICATE');
  if (Boolean(keyPem) !== Boolean(certificatePem)) {
    throw new Error('WEBHOOK_SIGNING_KEY and WEBHOOK_SIGNING_CERTIFICATE (or their _FILE forms) go together.');
  }
  return {
    retrySeconds: positiveSeconds('WEBHOOK_RETRY_SECONDS', nonEmpty(env.WEBHOOK_RETRY_SECONDS), 30),
    retryMaxSeconds: positiveSeconds('WEBHOOK_RETRY_MAX_SECONDS', nonEmpty(env.WEBHOOK_RETRY_MAX_SECONDS), 3600),
    timeoutSeconds: positiveSeconds('WEBHOOK_TIMEOUT_SECONDS', nonEmpty(env.WEBHOOK_TIMEOUT_SECONDS), 10),
    signing: keyPem && certificatePem ? { keyPem, certificatePem } : undefined,
  };
}

const microsoftInvitationUrlTemplate =
  'https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{id}';
/** In sandbox mode the customer approves on this service's own portal (SPEC §17). */
const portalInvitationUrlTemplate = '{baseUrl}/portal/invitations/{id}';

const defaultPortalAuthority = 'https://login.microsoftonline.com/organizations';

/** PORTAL_AUTHORITY: an https URL (MSAL talks to it from the browser). */
function portalAuthority(value: string | undefined): string {
  if (value === undefined) return defaultPortalAuthority;
  if (!URL.canParse(value) || new URL(value).protocol !== 'https:') {
    throw new Error('PORTAL_AUTHORITY must be an https URL, e.g. https://login.microsoftonline.com/organizations.');
  }
  return value.replace(/\/+$/, '');
}

/** Issuer and audience of sandbox-minted tokens when none are configured. */
export const sandboxIssuer = 'https://sts.sandbox.gdap.local/';
export const sandboxAudience = 'https://graph.microsoft.com';

function tablePrefix(value: string | undefined): string {
  const prefix = value?.trim() ?? '';
  if (prefix && !/^[A-Za-z][A-Za-z0-9]{0,31}$/.test(prefix)) {
    throw new Error('TABLE_PREFIX must be a letter followed by at most 31 letters or digits.');
  }
  return prefix;
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const sandboxMode = (env.SANDBOX_MODE ?? '').toLowerCase() === 'true';
  const nonEmpty = (value: string | undefined): string | undefined =>
    value && value.trim() ? value.trim() : undefined;
  return {
    storage: readStorageConnection(env),
    tablePrefix: tablePrefix(env.TABLE_PREFIX),
    sandboxMode,
    auth: {
      issuer: nonEmpty(env.AUTH_ISSUER) ?? sandboxIssuer,
      audience: nonEmpty(env.AUTH_AUDIENCE) ?? sandboxAudience,
      jwks: nonEmpty(env.AUTH_JWKS),
      jwksUri: nonEmpty(env.AUTH_JWKS_URI),
    },
    publicBaseUrl: nonEmpty(env.PUBLIC_BASE_URL),
    invitationUrlTemplate:
      nonEmpty(env.INVITATION_URL_TEMPLATE) ??
      (sandboxMode ? portalInvitationUrlTemplate : microsoftInvitationUrlTemplate),
    portal: {
      clientId: nonEmpty(env.PORTAL_CLIENT_ID),
      authority: portalAuthority(nonEmpty(env.PORTAL_AUTHORITY)),
    },
    maxBodyBytes: 64 * 1024,
    jobSchedules: Object.fromEntries(
      Object.entries(defaultJobSchedules).map(([job, schedule]) => [
        job,
        nonEmpty(env[`JOB_SCHEDULE_${job}`]) ?? schedule,
      ]),
    ),
    supportAccessRequestPendingExpiry: pendingExpiry(nonEmpty(env.SUPPORT_ACCESS_REQUEST_PENDING_EXPIRY)),
    readCacheSeconds: readCacheSeconds(nonEmpty(env.READ_CACHE_SECONDS)),
    storageTimeoutSeconds: storageTimeoutSeconds(nonEmpty(env.STORAGE_TIMEOUT_SECONDS)),
    operatorTenantId: tenantIdSetting('OPERATOR_TENANT_ID', nonEmpty(env.OPERATOR_TENANT_ID)),
    supportTenantId: tenantIdSetting('SUPPORT_TENANT_ID', nonEmpty(env.SUPPORT_TENANT_ID)),
    webhooks: webhookConfig(env, nonEmpty),
  };
}

let current: Config | undefined;

/** The process-wide configuration, read from the environment on first use and frozen after. */
export function config(): Config {
  current ??= Object.freeze(loadConfig(process.env));
  return current;
}

/** Application Insights through OpenTelemetry (shared/telemetry.ts); absent: telemetry is off. */
export interface TelemetryConfig {
  /** APPLICATIONINSIGHTS_CONNECTION_STRING. */
  connectionString: string;
  /**
   * Entra ID authentication of the ingestion (APPLICATIONINSIGHTS_AUTHENTICATION_STRING
   * `Authorization=AAD;ClientId=…`, as the Functions host reads it): a managed identity, the
   * user-assigned one when a client id is given.
   */
  entra?: { clientId?: string };
}

/** Read apart from `config()`: telemetry starts before the function files, and before the environment is final locally. */
export function loadTelemetryConfig(env: NodeJS.ProcessEnv): TelemetryConfig | undefined {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return undefined;
  const authentication = new Map(
    (env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '')
      .split(';')
      .map((pair) => pair.split('=').map((part) => part.trim()))
      .filter(([key, value]) => key && value)
      .map(([key, value]) => [key.toLowerCase(), value] as const),
  );
  if (authentication.get('authorization')?.toUpperCase() !== 'AAD') return { connectionString };
  const clientId = authentication.get('clientid');
  return { connectionString, entra: clientId ? { clientId } : {} };
}
