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

export interface Config {
  storageConnectionString: string;
  sandboxMode: boolean;
  auth: AuthConfig;
  /** Base URL used in Location headers and @odata.context/@odata.nextLink when the request's own origin is unknown. */
  publicBaseUrl?: string;
  invitationUrlTemplate: string;
  maxBodyBytes: number;
}

const defaultInvitationUrlTemplate =
  'https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{id}';

/** Issuer and audience of sandbox-minted tokens when none are configured. */
export const sandboxIssuer = 'https://sts.sandbox.gdap.local/';
export const sandboxAudience = 'https://graph.microsoft.com';

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const sandboxMode = (env.SANDBOX_MODE ?? '').toLowerCase() === 'true';
  const nonEmpty = (value: string | undefined): string | undefined =>
    value && value.trim() ? value.trim() : undefined;
  return {
    storageConnectionString: nonEmpty(env.AzureWebJobsStorage) ?? 'UseDevelopmentStorage=true',
    sandboxMode,
    auth: {
      issuer: nonEmpty(env.AUTH_ISSUER) ?? sandboxIssuer,
      audience: nonEmpty(env.AUTH_AUDIENCE) ?? sandboxAudience,
      jwks: nonEmpty(env.AUTH_JWKS),
      jwksUri: nonEmpty(env.AUTH_JWKS_URI),
    },
    publicBaseUrl: nonEmpty(env.PUBLIC_BASE_URL),
    invitationUrlTemplate: nonEmpty(env.INVITATION_URL_TEMPLATE) ?? defaultInvitationUrlTemplate,
    maxBodyBytes: 64 * 1024,
  };
}

let current: Config | undefined;

/** The process-wide configuration, read from the environment on first use and frozen after. */
export function config(): Config {
  current ??= Object.freeze(loadConfig(process.env));
  return current;
}
