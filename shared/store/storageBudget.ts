import { RestError } from '@azure/data-tables';
import type { AdditionalPolicyConfig } from '@azure/core-client';
import type { PipelinePolicy, PipelineRetryOptions } from '@azure/core-rest-pipeline';
import { config } from '../config';

/**
 * Every storage call has a bounded time, retries included (STORAGE_TIMEOUT_SECONDS, default 10),
 * so a storage account that stops answering turns into a fast 503 with Retry-After instead of
 * requests that hang (SPEC §10, issue 15): each try may take 40 % of the budget, up to two retries
 * a short while apart, and the whole call is cut off at the budget.
 */
const tryShare = 0.4;
const maxRetries = 2;

function budgetMs(): number {
  return config().storageTimeoutSeconds * 1000;
}

export function tableRetryOptions(): PipelineRetryOptions {
  return { maxRetries, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };
}

/** Options of @azure/storage-queue's own retry policy, on the same budget. */
export function queueRetryOptions(): {
  maxTries: number;
  tryTimeoutInMs: number;
  retryDelayInMs: number;
  maxRetryDelayInMs: number;
} {
  return {
    maxTries: maxRetries + 1,
    tryTimeoutInMs: Math.ceil(budgetMs() * tryShare),
    retryDelayInMs: 200,
    maxRetryDelayInMs: 1000,
  };
}

/**
 * Cuts the whole call (every try) off at the budget. The timer is cleared when the call ends:
 * `AbortSignal.timeout` would leave one pending timer per call for the whole budget (thousands
 * under load) and a weak reference for the garbage collector to track, about 3 % of a GET's CPU.
 */
const wholeCallTimeout: PipelinePolicy = {
  name: 'storageCallBudget',
  sendRequest: async (request, next) => {
    const budget = new AbortController();
    const timer = setTimeout(
      () => budget.abort(new DOMException('The storage call took longer than its budget.', 'TimeoutError')),
      budgetMs(),
    );
    const given = request.abortSignal as AbortSignal | undefined;
    request.abortSignal = given ? AbortSignal.any([given, budget.signal]) : budget.signal;
    try {
      return await next(request);
    } finally {
      clearTimeout(timer);
    }
  },
};

/** Bounds each try, so a retry can follow one that got no answer. */
const perTryTimeout: PipelinePolicy = {
  name: 'storageTryTimeout',
  sendRequest: (request, next) => {
    const limit = Math.ceil(budgetMs() * tryShare);
    if (!request.timeout || request.timeout > limit) request.timeout = limit;
    return next(request);
  },
};

let onTableNotFound: () => void = () => undefined;

/** Lets tables.ts forget that its tables exist when storage says one does not (it was deleted). */
export function whenTableNotFound(forget: () => void): void {
  onTableNotFound = forget;
}

/**
 * A table that disappeared (deleted behind the service's back) is created again by the next
 * request: this answer is turned into a 503 (retry soon), not taken as "row not found".
 */
const tableNotFound: PipelinePolicy = {
  name: 'storageTableNotFound',
  sendRequest: async (request, next) => {
    try {
      return await next(request);
    } catch (error) {
      // The SDK's deserialization (nearer the wire than this policy) has already made it a RestError.
      const response = (error as RestError).response;
      if (response?.status !== 404 || response.headers.get('x-ms-error-code') !== 'TableNotFound') throw error;
      onTableNotFound();
      throw new RestError('A table the service uses does not exist; it is being created again.', {
        code: 'TableNotFound',
        statusCode: 503,
        request,
        response,
      });
    }
  },
};

export function tablePolicies(): AdditionalPolicyConfig[] {
  return [
    { policy: wholeCallTimeout, position: 'perCall' },
    { policy: tableNotFound, position: 'perCall' },
    { policy: perTryTimeout, position: 'perRetry' },
  ];
}

/**
 * Whether an error means storage is unavailable (no answer in time, refused connections, its own
 * 5xx), which the API answers with 503 and Retry-After rather than 500.
 */
export function isStorageUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return true;
  // Tables' and Queues' packages may carry their own copies of RestError: match it by name.
  if (error.name === 'RestError') {
    const status = (error as RestError).statusCode;
    return status === undefined || status >= 500;
  }
  const code = (error as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'REQUEST_SEND_ERROR'].includes(code)
  );
}
