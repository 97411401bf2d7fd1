import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { DateTime, Duration } from 'luxon';
import { z } from 'zod';
import { refreshServiceClock, serviceClockState, setServiceClock } from '../shared/clock';
import { config } from '../shared/config';
import { invalid, notFound } from '../shared/domain/errors';
import { isGuid, newGuid } from '../shared/domain/ids';
import { parseBody } from '../shared/domain/schema';
import { toGraphDateTime } from '../shared/domain/time';
import { readJsonBody } from '../shared/http/body';
import { anonymousRoute, RequestScope } from '../shared/http/handler';
import { json } from '../shared/http/responses';
import { mintSandboxToken, sandboxSigningAvailable, sandboxTokenLifetimeSeconds } from '../shared/http/sandboxKeys';
import { findJob, jobNow, listJobs, runDueJob } from '../shared/app/jobs';
import { HttpRegistration, registerHttp } from '../shared/registrations';
import { seedSandboxTenantName, setTenantDisplayName } from '../shared/store/directory';

/**
 * Sandbox helpers (SPEC §11): clock, tokens, jobs and seed data. They need no token and exist only
 * with SANDBOX_MODE=true; otherwise every sandbox route answers 404 like an unknown path.
 */
export function sandboxRoute(handle: (request: HttpRequest, scope: RequestScope) => Promise<HttpResponseInit>) {
  return anonymousRoute(async (request, scope) => {
    if (!config().sandboxMode) throw notFound('Not found.');
    return handle(request, scope);
  });
}

function clockView(): Record<string, unknown> {
  const { now, pinned, running } = serviceClockState();
  return { now: toGraphDateTime(now), pinned, running };
}

function parseInstant(value: string): DateTime {
  const instant = DateTime.fromISO(value, { zone: 'utc' });
  if (!instant.isValid) throw invalid(`'now' must be an ISO 8601 date and time, e.g. 2026-01-01T00:00:00Z.`);
  return instant;
}

/** PUT {"now": ISO | null, "running"?: bool}: stands (default) or runs from `now`; null is real time. */
async function setClock(request: HttpRequest): Promise<HttpResponseInit> {
  const input = parseBody(
    z.strictObject({ now: z.string().nullable(), running: z.boolean().optional() }),
    await readJsonBody(request),
  );
  if (input.now === null && input.running !== undefined) {
    throw invalid('\'running\' applies to a set clock; {"now": null} is real time, which always runs.');
  }
  await setServiceClock(
    input.now === null ? undefined : { now: parseInstant(input.now), running: input.running ?? false },
  );
  return json(200, clockView());
}

/** POST {"by": ISO duration}: moves the clock forward, keeping whether it runs (real time becomes a running clock ahead). */
async function advanceClock(request: HttpRequest): Promise<HttpResponseInit> {
  const input = parseBody(z.strictObject({ by: z.string() }), await readJsonBody(request));
  const by = Duration.fromISO(input.by.toUpperCase());
  if (!by.isValid || by.toMillis() <= 0) {
    throw invalid(`'by' must be a positive ISO 8601 duration, e.g. P1D or PT12H.`);
  }
  await refreshServiceClock({ force: true });
  const { now, pinned, running } = serviceClockState();
  await setServiceClock({ now: now.plus(by), running: pinned ? running : true });
  return json(200, clockView());
}

async function resetClock(): Promise<HttpResponseInit> {
  await setServiceClock(undefined);
  return json(200, clockView());
}

const guidList = z.array(z.string().refine(isGuid, 'must be a GUID'));
const tokenRequestSchema = z.strictObject({
  tid: z.string().refine(isGuid, 'must be a tenant id (GUID)'),
  oid: z.string().refine(isGuid, 'must be an object id (GUID)').optional(),
  roles: z.array(z.string()).optional(),
  wids: guidList.optional(),
  groups: guidList.optional(),
  email: z.string().optional(),
  appid: z.string().optional(),
  name: z.string().optional(),
  /** Entra's account type: 0 member, 1 guest. */
  acct: z.union([z.literal(0), z.literal(1)]).optional(),
});

/** Minted tokens live on real time (SPEC §11), so moving the sandbox clock never expires them. */
async function mintToken(request: HttpRequest): Promise<HttpResponseInit> {
  if (!sandboxSigningAvailable()) {
    throw invalid('Token minting is off because AUTH_JWKS or AUTH_JWKS_URI is configured: use your identity provider.');
  }
  const claims = parseBody(tokenRequestSchema, await readJsonBody(request));
  // The sandbox knows every tenant it mints for by a readable name (SPEC §14).
  await seedSandboxTenantName(claims.tid.toLowerCase());
  const issuedAt = DateTime.utc();
  const token = await mintSandboxToken({ ...claims, oid: claims.oid ?? newGuid() }, issuedAt);
  return json(200, {
    token_type: 'Bearer',
    access_token: token,
    expires_in: sandboxTokenLifetimeSeconds,
    expires_on: Math.floor(issuedAt.toSeconds()) + sandboxTokenLifetimeSeconds,
  });
}

async function runJob(request: HttpRequest, scope: RequestScope): Promise<HttpResponseInit> {
  const job = findJob(request.params.job);
  if (!job) {
    throw notFound(
      `Unknown job '${request.params.job}'. Known jobs: ${
        listJobs()
          .map((j) => j.id)
          .join(', ') || 'none'
      }.`,
    );
  }
  const report = await runDueJob(job, jobNow(job, scope.now));
  return json(200, { job: job.id, ranAt: toGraphDateTime(scope.now), ...report });
}

async function seedTenant(request: HttpRequest): Promise<HttpResponseInit> {
  if (!isGuid(request.params.tenantId)) throw invalid('The tenant id must be a GUID.');
  const input = parseBody(z.strictObject({ displayName: z.string().min(1).max(256) }), await readJsonBody(request));
  const tenantId = request.params.tenantId.toLowerCase();
  await setTenantDisplayName(tenantId, input.displayName);
  return json(200, { tenantId, displayName: input.displayName });
}

const sandboxRoutes: HttpRegistration[] = [
  {
    name: 'sandboxClock',
    methods: ['GET', 'PUT', 'DELETE'],
    route: 'sandbox/clock',
    handler: sandboxRoute(async (request) => {
      if (request.method === 'PUT') return setClock(request);
      if (request.method === 'DELETE') return resetClock();
      return json(200, clockView());
    }),
  },
  {
    name: 'sandboxClockAdvance',
    methods: ['POST'],
    route: 'sandbox/clock/advance',
    handler: sandboxRoute(advanceClock),
  },
  { name: 'sandboxTokens', methods: ['POST'], route: 'sandbox/tokens', handler: sandboxRoute(mintToken) },
  {
    name: 'sandboxJobs',
    methods: ['GET'],
    route: 'sandbox/jobs',
    handler: sandboxRoute(async () => json(200, { value: listJobs().map(({ id, schedule }) => ({ id, schedule })) })),
  },
  { name: 'sandboxRunJob', methods: ['POST'], route: 'sandbox/jobs/{job}', handler: sandboxRoute(runJob) },
  { name: 'sandboxTenant', methods: ['PUT'], route: 'sandbox/tenants/{tenantId}', handler: sandboxRoute(seedTenant) },
];

sandboxRoutes.forEach(registerHttp);
