import { DomainErrorKind } from '../domain/errors';

/**
 * Graph error codes by HTTP status (SPEC §10). Every failure a client sees is one of these,
 * wrapped in the Graph envelope by the handler wrapper; the refusals themselves are the one
 * vocabulary of shared/domain/errors.ts.
 */
export const graphErrorCodes = {
  400: 'badRequest',
  401: 'InvalidAuthenticationToken',
  403: 'Authorization_RequestDenied',
  404: 'ResourceNotFound',
  405: 'methodNotAllowed',
  409: 'conflict',
  412: 'preconditionFailed',
  413: 'payloadTooLarge',
  415: 'unsupportedMediaType',
  424: 'failedDependency',
  429: 'tooManyRequests',
  500: 'internalServerError',
  503: 'serviceUnavailable',
} as const;

export type ErrorStatus = keyof typeof graphErrorCodes;

export const statusOfKind: Record<DomainErrorKind, ErrorStatus> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  methodNotAllowed: 405,
  conflict: 409,
  stale: 412,
  tooLarge: 413,
  unsupportedMediaType: 415,
  failedDependency: 424,
  tooManyRequests: 429,
  internal: 500,
  unavailable: 503,
};
