/**
 * Graph error codes by HTTP status (SPEC §10). Every failure a client sees is one of these,
 * wrapped in the Graph envelope by the handler wrapper.
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
} as const;

export type ErrorStatus = keyof typeof graphErrorCodes;

/** An error that maps to one Graph error response. `code` defaults to the status's Graph code. */
export class HttpError extends Error {
  readonly status: ErrorStatus;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: ErrorStatus, message: string, options: { code?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = options.code ?? graphErrorCodes[status];
    this.headers = options.headers ?? {};
  }
}

export const badRequest = (message: string, code?: string): HttpError => new HttpError(400, message, { code });
export const unauthorized = (message: string): HttpError => new HttpError(401, message);
export const forbidden = (message: string): HttpError => new HttpError(403, message);
export const notFound = (message: string): HttpError => new HttpError(404, message);
export const conflict = (message: string): HttpError => new HttpError(409, message);
export const preconditionFailed = (message: string): HttpError => new HttpError(412, message);
