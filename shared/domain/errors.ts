/**
 * The one vocabulary of refusals. Pure code throws these, the store throws `stale` when a
 * conditional write loses to another, and the HTTP layer throws the protocol's own kinds (a body
 * too large, a missing token); shared/http/errors.ts maps each kind to its status and Graph code
 * (invalid 400, unauthorized 401, forbidden 403, notFound 404, methodNotAllowed 405, conflict 409,
 * stale 412, tooLarge 413, unsupportedMediaType 415, failedDependency 424, tooManyRequests 429,
 * internal 500, unavailable 503).
 */
export type DomainErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  | 'methodNotAllowed'
  | 'conflict'
  | 'stale'
  | 'tooLarge'
  | 'unsupportedMediaType'
  | 'failedDependency'
  | 'tooManyRequests'
  | 'internal'
  | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** Response headers the refusal calls for (`Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (message: string): DomainError => new DomainError('invalid', message);
export const unauthorized = (message: string): DomainError => new DomainError('unauthorized', message);
export const forbidden = (message: string): DomainError => new DomainError('forbidden', message);
export const notFound = (message: string): DomainError => new DomainError('notFound', message);
export const methodNotAllowed = (message: string): DomainError => new DomainError('methodNotAllowed', message);
export const conflict = (message: string): DomainError => new DomainError('conflict', message);
export const stale = (message: string): DomainError => new DomainError('stale', message);
export const tooLarge = (message: string): DomainError => new DomainError('tooLarge', message);
export const unsupportedMediaType = (message: string): DomainError => new DomainError('unsupportedMediaType', message);
export const failedDependency = (message: string): DomainError => new DomainError('failedDependency', message);
export const internal = (message: string): DomainError => new DomainError('internal', message);
