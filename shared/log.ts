import type { InvocationContext } from '@azure/functions';

/**
 * One structured log line per request and per job run: a JSON object on one line, at
 * `information` (a failed job run at `error`), through the invocation's logger, so Application
 * Insights (`traces | extend line = parse_json(message)`) and the local host's console read them
 * alike. Only ids, route templates, statuses and durations: never tokens, bodies, query strings
 * or people's identifiers.
 */

export interface RequestLogLine {
  requestId: string;
  clientRequestId?: string;
  method: string;
  /** The route template served (`v1.0/…/{id}`), not the path with its ids. */
  route?: string;
  status: number;
  durationMs: number;
  /** The caller's tenant, once the token is validated. */
  tenantId?: string;
}

export function logRequest(context: InvocationContext, line: RequestLogLine): void {
  context.info(JSON.stringify({ event: 'request', function: context.functionName, ...line }));
}

export interface JobLogLine {
  job: string;
  /** The invocation's id: the job run's request-id. */
  runId: string;
  durationMs: number;
  outcome: 'succeeded' | 'failed';
  /** What the run did (counts, ids of the items it changed). */
  report?: Record<string, unknown>;
}

export function logJobRun(context: InvocationContext, line: JobLogLine): void {
  const text = JSON.stringify({ event: 'job', function: context.functionName, ...line });
  if (line.outcome === 'failed') context.error(text);
  else context.info(text);
}

/** Runs one job run (a timer's, a queue message's) and logs its line, succeeded with its report or failed. */
export async function loggedJobRun<T extends Record<string, unknown> | void>(
  context: InvocationContext,
  job: string,
  run: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const line = (outcome: JobLogLine['outcome'], report?: Record<string, unknown>): JobLogLine => ({
    job,
    runId: context.invocationId,
    durationMs: Math.round(performance.now() - started),
    outcome,
    ...(report ? { report } : {}),
  });
  try {
    const result = await run();
    logJobRun(context, line('succeeded', result || undefined));
    return result;
  } catch (error) {
    logJobRun(context, line('failed'));
    throw error;
  }
}
