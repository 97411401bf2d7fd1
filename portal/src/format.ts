/** How the pages write dates, durations and statuses. Dates are UTC, as the API gives them. */

const pad = (value: number): string => String(value).padStart(2, '0');

export function formatDate(value: string | Date | null | undefined): string {
  if (!value) return '—';
  const date = typeof value === 'string' ? new Date(value) : value;
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

export function formatDateTime(value: string | Date | null | undefined): string {
  if (!value) return '—';
  const date = typeof value === 'string' ? new Date(value) : value;
  return `${formatDate(date)} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`;
}

/** Whole days of an ISO 8601 duration as the API normalises them (`P730D`); undefined for anything else. */
export function durationDays(duration: string): number | undefined {
  const match = /^P(\d+)D$/i.exec(duration);
  return match ? Number(match[1]) : undefined;
}

export function formatDuration(duration: string): string {
  const days = durationDays(duration);
  if (days === undefined) return duration;
  return days === 1 ? '1 day' : `${days} days`;
}

export const autoExtends = (autoExtendDuration: string): boolean => durationDays(autoExtendDuration) === 180;

export function formatAutoExtend(autoExtendDuration: string): string {
  return autoExtends(autoExtendDuration) ? 'On (180 days)' : 'Off';
}

const dayMs = 24 * 60 * 60 * 1000;

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * dayMs);
}

/** Whole days from `now` until `end`, rounded up (an end later today is "1 day"). */
export function daysUntil(end: string, now: Date): number {
  return Math.max(0, Math.ceil((new Date(end).getTime() - now.getTime()) / dayMs));
}

const statusLabels: Record<string, string> = {
  created: 'Created',
  approvalPending: 'Approval pending',
  approved: 'Approved',
  activating: 'Activating',
  active: 'Active',
  expiring: 'Expiring',
  expired: 'Expired',
  terminationRequested: 'Termination requested',
  terminating: 'Terminating',
  terminated: 'Terminated',
  pending: 'Pending',
  succeeded: 'Succeeded',
  failed: 'Failed',
  deleting: 'Deleting',
  deleted: 'Deleted',
  error: 'Error',
  rejected: 'Rejected',
  canceled: 'Canceled',
  completed: 'Completed',
  removed: 'Removed',
  lockForApproval: 'Lock for approval',
  approve: 'Approve',
  reject: 'Reject',
  terminate: 'Terminate',
};

export function formatStatus(status: string): string {
  return statusLabels[status] ?? status;
}

export const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;
