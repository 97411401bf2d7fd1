import { randomUUID } from 'node:crypto';
import { CallResult, Client, expectOk, relationshipsUrl, roles } from './support';

/** Helpers for the GDAP template and job tests (SPEC §15), over HTTP only. */
export type Json = Record<string, unknown>;

export const templatesUrl = '/v1/gdapTemplates';
export const jobsUrl = '/v1/gdapJobs';

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs` with the last value seen. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('Timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export class Fleet {
  constructor(readonly client: Client) {}

  /** A partner AdminAgent (with a known user id, so audit entries can be traced to it). */
  async partner(): Promise<{ tenantId: string; userId: string; token: string }> {
    const tenantId = randomUUID();
    const userId = randomUUID();
    return { tenantId, userId, token: await this.client.token({ tid: tenantId, oid: userId, roles: ['AdminAgent'] }) };
  }

  async customer(): Promise<{ tenantId: string; token: string }> {
    const tenantId = randomUUID();
    return { tenantId, token: await this.client.token({ tid: tenantId, wids: [roles.globalAdministrator] }) };
  }

  async importDap(partnerTenantId: string, customerTenantId: string): Promise<void> {
    expectOk(await this.client.call('PUT', `/sandbox/dap/${partnerTenantId}/${customerTenantId}`), 200);
  }

  templateBody(groups: string[], overrides: Json = {}): Json {
    return {
      displayName: `Template ${randomUUID().slice(0, 8)}`,
      duration: 'P730D',
      accessAssignments: groups.map((groupId, index) => ({
        accessContainer: { accessContainerId: groupId, accessContainerType: 'securityGroup' },
        accessDetails: {
          unifiedRoles: [
            index % 2 === 0 ? roles.exchangeAdministrator : roles.intuneAdministrator,
            roles.globalReader,
          ].map((roleDefinitionId) => ({ roleDefinitionId })),
        },
      })),
      ...overrides,
    };
  }

  async template(token: string, groups: string[], overrides: Json = {}): Promise<Json> {
    return expectOk(
      await this.client.call('POST', templatesUrl, { token, body: this.templateBody(groups, overrides) }),
      201,
    ).body;
  }

  /** POST …/assign → the job's URL (202 + Location). */
  async assign(token: string, templateId: unknown, customerTenantIds: string[], extra: Json = {}): Promise<string> {
    const result = expectOk(
      await this.client.call('POST', `${templatesUrl}/${String(templateId)}/assign`, {
        token,
        body: { customerTenantIds, ...extra },
      }),
      202,
    );
    return String(result.headers.get('location'));
  }

  async job(token: string, location: string): Promise<Json> {
    return expectOk(await this.client.call('GET', location, { token }), 200).body;
  }

  /** The job once no item is queued or running (awaiting approval counts as settled for now). */
  async settledJob(token: string, location: string, timeoutMs?: number): Promise<{ job: Json; items: Json[] }> {
    return waitFor(async () => {
      const items = await this.items(token, location);
      if (items.some((item) => item.state === 'queued' || item.state === 'running')) return undefined;
      return { job: await this.job(token, location), items };
    }, timeoutMs);
  }

  /** Every item of a job, following nextLinks. */
  async items(token: string, location: string, query = ''): Promise<Json[]> {
    return this.allPages(token, `${location}/items${query}`);
  }

  async relationship(token: string, id: unknown): Promise<Json> {
    return expectOk(await this.client.call('GET', `${relationshipsUrl}/${String(id)}`, { token }), 200).body;
  }

  /** Live (not deleted) assignments of a relationship: group id → sorted role ids. */
  async assignments(token: string, relationshipId: unknown): Promise<Map<string, string[]>> {
    const result = expectOk(
      await this.client.call<{ value: Json[] }>(
        'GET',
        `${relationshipsUrl}/${String(relationshipId)}/accessAssignments`,
        {
          token,
        },
      ),
      200,
    );
    const live = new Map<string, string[]>();
    for (const assignment of result.body.value) {
      if (assignment.status === 'deleted') continue;
      const group = (assignment.accessContainer as Json).accessContainerId as string;
      const roleIds = ((assignment.accessDetails as Json).unifiedRoles as Json[]).map((role) =>
        String(role.roleDefinitionId),
      );
      live.set(group, roleIds.sort());
    }
    return live;
  }

  /** The partner's audit entries of one activity (read by a Global Administrator of the partner). */
  async audits(partnerTenantId: string, activity: string): Promise<Json[]> {
    const token = await this.client.token({ tid: partnerTenantId, wids: [roles.globalAdministrator] });
    const filter = `activityDisplayName eq '${activity.replace(/'/g, "''")}'`;
    return this.allPages(token, `/v1.0/auditLogs/directoryAudits?$top=300&$filter=${filter}`);
  }

  async partnerRelationships(token: string): Promise<Json[]> {
    return this.allPages(token, `${relationshipsUrl}?$top=300`);
  }

  /** Every entry of a collection, following its nextLinks. */
  async allPages(token: string, first: string): Promise<Json[]> {
    const found: Json[] = [];
    let url: string | undefined = first;
    while (url) {
      const page: CallResult<{ value: Json[]; '@odata.nextLink'?: string }> = expectOk(
        await this.client.call<{ value: Json[]; '@odata.nextLink'?: string }>('GET', url, { token }),
        200,
      );
      found.push(...page.body.value);
      url = page.body['@odata.nextLink'];
    }
    return found;
  }
}

export const groupRoles = (index: number): string[] =>
  [index % 2 === 0 ? roles.exchangeAdministrator : roles.intuneAdministrator, roles.globalReader].sort();
