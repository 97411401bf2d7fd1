/**
 * The ways a command can be refused. Pure code throws these (and the store throws `stale` when a
 * conditional write loses to another); the HTTP layer maps each kind to its Graph status
 * (invalid 400, forbidden 403, notFound 404, conflict 409, stale 412).
 */
export type DomainErrorKind = 'invalid' | 'forbidden' | 'notFound' | 'conflict' | 'stale';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (message: string): DomainError => new DomainError('invalid', message);
export const forbidden = (message: string): DomainError => new DomainError('forbidden', message);
export const notFound = (message: string): DomainError => new DomainError('notFound', message);
export const conflict = (message: string): DomainError => new DomainError('conflict', message);
export const stale = (message: string): DomainError => new DomainError('stale', message);
