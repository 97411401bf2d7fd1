import { jobNow, listJobs, runDueJob } from '../shared/app/jobs';
import '../shared/app/maintenance';
import '../shared/app/support';
import '../shared/app/templates';
import { refreshServiceClock, serviceNow } from '../shared/clock';
import { loggedJobRun } from '../shared/log';
import { registerTimer } from '../shared/registrations';

/**
 * The timers of SPEC §4, one per job of the one job registry (shared/app/maintenance.ts,
 * shared/app/support.ts, shared/app/templates.ts): thin dispatchers that start a run of the job runner
 * (shared/app/jobs.ts) at the job's schedule. `POST /sandbox/jobs/{job}` starts the same run.
 */
for (const job of listJobs()) {
  registerTimer({
    name: job.id,
    schedule: job.schedule,
    handler: async (_timer, context) => {
      await loggedJobRun(context, job.id, async () => {
        await refreshServiceClock();
        return runDueJob(job, jobNow(job, serviceNow()));
      });
    },
  });
}
