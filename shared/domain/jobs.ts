/**
 * The one registry of job ids (SPEC §4; used by `POST /sandbox/jobs/{job}`, timers and logs) and
 * the one shape of a due-index entry: "at `dueAt`, job `job` must look at `subjectId`".
 */
export const jobIds = {
  expirePendingRequests: 'expirePendingRequests',
  processEndDates: 'processEndDates',
  sendExpiryWarnings: 'sendExpiryWarnings',
  purgeEnded: 'purgeEnded',
  expireSupportAccessRequests: 'expireSupportAccessRequests',
  /** Consequences of a relationship change that did not fit its transaction (SPEC §2.1: every assignment deleted). */
  finishRelationshipChanges: 'finishRelationshipChanges',
  /** A GDAP template's relationship the customer answered: its onboarding item continues (SPEC §15.2). */
  continueTemplateOnboarding: 'continueTemplateOnboarding',
  /** Events a crash left between a change and their publication (the outbox, shared/store/outbox.ts). */
  publishEvents: 'publishEvents',
} as const;
export type JobId = (typeof jobIds)[keyof typeof jobIds];

export const allJobIds: readonly JobId[] = Object.values(jobIds);

export function isJobId(value: string): value is JobId {
  return (allJobIds as readonly string[]).includes(value);
}

/** A future moment at which a job must look at something (a row of the due index). */
export interface DueEntry {
  job: JobId;
  /** A Graph timestamp; the entry is due once the job's clock reaches it. */
  dueAt: string;
  /** What the job looks at: a relationship, an access request, a change (its id). */
  subjectId: string;
  /** For expiry warnings: how many days before the end. */
  days?: number;
  /** What the job needs besides the subject, as JSON (the outbox's events). */
  data?: string;
}
