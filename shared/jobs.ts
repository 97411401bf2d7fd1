import { DateTime } from 'luxon';
import { refreshServiceClock, serviceNow } from './clock';
import { registerTimer } from './registrations';

/** What a maintenance run did, returned by the sandbox jobs route and logged by the timer. */
export type JobReport = Record<string, unknown>;

export interface MaintenanceJob {
  /** Job id of SPEC §4, used by `POST /sandbox/jobs/{job}` and in logs. */
  id: string;
  /** NCRONTAB schedule (with seconds) of its timer. */
  schedule: string;
  run(now: DateTime): Promise<JobReport>;
}

const jobs = new Map<string, MaintenanceJob>();

/** Registers a job both as a timer function and for on-demand runs from the sandbox. */
export function registerJob(job: MaintenanceJob): void {
  jobs.set(job.id, job);
  registerTimer({
    name: job.id,
    schedule: job.schedule,
    handler: async (_timer, context) => {
      await refreshServiceClock();
      const report = await job.run(serviceNow());
      context.log(`${job.id} finished`, JSON.stringify(report));
    },
  });
}

export function findJob(id: string): MaintenanceJob | undefined {
  return jobs.get(id);
}

export function listJobs(): MaintenanceJob[] {
  return [...jobs.values()];
}
