import { ApiError, call, get } from './api';

/** The API's shapes for GDAP templates and bulk jobs (SPEC §15), this service's own `/v1` routes. */
export const templatesPath = '/v1/gdapTemplates';
export const jobsPath = '/v1/gdapJobs';

export interface TemplateAssignment {
  accessContainer: { accessContainerId: string; accessContainerType: 'securityGroup' };
  accessDetails: { unifiedRoles: { roleDefinitionId: string }[] };
}

export interface Template {
  id: string;
  displayName: string;
  description: string | null;
  duration: string;
  autoExtendDuration: string;
  accessAssignments: TemplateAssignment[];
  unifiedRoles: { roleDefinitionId: string }[];
  relationshipNamePrefix: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  '@odata.etag': string;
}

export interface GroupRoles {
  accessContainerId: string;
  unifiedRoles: string[];
}

export interface Drift {
  missing: GroupRoles[];
  extra: GroupRoles[];
  changed: { accessContainerId: string; expected: string[]; actual: string[] }[];
  rolesNotInRelationship: string[];
}

/** A row of `GET …/{id}/customers` (SPEC §15.3). */
export interface TemplateCustomer {
  customerTenantId: string;
  relationshipId?: string;
  relationshipStatus?: string;
  state: 'pending' | 'awaitingApproval' | 'active' | 'failed';
  endDateTime?: string;
  drift: Drift;
}

export const hasDrift = (drift: Drift): boolean =>
  drift.missing.length + drift.extra.length + drift.changed.length + drift.rolesNotInRelationship.length > 0;

export const jobStatuses = ['notStarted', 'running', 'succeeded', 'partiallySucceeded', 'failed', 'canceled'] as const;
export type JobStatus = (typeof jobStatuses)[number];
export const itemStates = ['queued', 'running', 'awaitingApproval', 'completed', 'failed', 'canceled'] as const;
export type ItemState = (typeof itemStates)[number];

export interface JobCounts {
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
  canceled: number;
}

export interface Job {
  id: string;
  kind: string;
  status: JobStatus;
  createdDateTime: string;
  lastModifiedDateTime: string;
  counts: JobCounts;
  parameters: {
    templateId?: string;
    renew?: boolean;
    thenAutoExtend?: boolean;
    autoExtendDuration?: string;
    force?: boolean;
  };
}

export interface JobItem {
  id: string;
  customerTenantId?: string;
  relationshipId?: string;
  state: ItemState;
  attempts: number;
  invitationUrl?: string;
  warnings?: string[];
  error?: { code: string; message: string };
  lastModifiedDateTime: string;
}

/** A job is still at work while any item is queued, running or awaiting a customer's approval. */
export const isJobActive = (job: Pick<Job, 'status'>): boolean =>
  job.status === 'notStarted' || job.status === 'running';

const jobKindLabels: Record<string, string> = {
  assignTemplate: 'Assign template',
  reconcileTemplate: 'Reconcile template',
  removeGlobalAdministrator: 'Remove Global Administrator',
  setAutoExtend: 'Set auto-extend',
  terminate: 'Terminate relationships',
  removeDap: 'Remove DAP',
};

export const jobKindLabel = (kind: string): string => jobKindLabels[kind] ?? kind;

const jobStatusLabels: Record<string, string> = {
  notStarted: 'Not started',
  running: 'Running',
  succeeded: 'Succeeded',
  partiallySucceeded: 'Partially succeeded',
  failed: 'Failed',
  canceled: 'Canceled',
  queued: 'Queued',
  awaitingApproval: 'Awaiting approval',
  completed: 'Completed',
  pending: 'Being created',
  active: 'Active',
};

export const formatJobState = (state: string): string => jobStatusLabels[state] ?? state;

/** The job a 202 names in its `Location` (or `Operation-Location`) header: its id is the last segment. */
export function jobIdFrom(location: string | null): string | undefined {
  if (!location) return undefined;
  const match = /\/v1\/gdapJobs\/([^/?#]+)/i.exec(location);
  return match ? decodeURIComponent(match[1]) : undefined;
}

/** POSTs a request that starts a job (SPEC §15: 202 + Location) and answers the job's id. */
export async function startJob(path: string, body?: unknown): Promise<string> {
  const answer = await call('POST', path, { body: body ?? {} });
  const id = jobIdFrom(answer.headers.get('location'));
  if (!id) throw new Error('The service accepted the request but named no job.');
  return id;
}

/**
 * Ids pasted as a list (one a line, or separated by commas, semicolons or spaces), in order, each
 * once (case-insensitive). The API checks each one's shape and says which is wrong.
 */
export function parseIdList(text: string): { ids: string[]; duplicates: number } {
  const seen = new Set<string>();
  const ids: string[] = [];
  let duplicates = 0;
  for (const piece of text.split(/[\s,;]+/)) {
    const id = piece.trim().replace(/^["']|["']$/g, '');
    if (!id) continue;
    const key = id.toLowerCase();
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    ids.push(id);
  }
  return { ids, duplicates };
}

export const templatePath = (id: string): string => `${templatesPath}/${encodeURIComponent(id)}`;
export const jobPath = (id: string): string => `${jobsPath}/${encodeURIComponent(id)}`;

const templateNames = new Map<string, Promise<string>>();

/** What a page that read or renamed a template knows: job pages show the new name at once. */
export function rememberTemplateName(id: string, name: string): void {
  templateNames.set(id, Promise.resolve(name));
}

/** A template's name for a job's line (read once per page load); a deleted one says so. */
export function templateName(id: string): Promise<string> {
  if (!templateNames.has(id)) {
    templateNames.set(
      id,
      get<Template>(templatePath(id)).then(
        (template) => template.displayName,
        (error: unknown) => {
          if (error instanceof ApiError && error.status === 404) return 'Deleted template';
          templateNames.delete(id);
          return 'Template';
        },
      ),
    );
  }
  return templateNames.get(id) as Promise<string>;
}
