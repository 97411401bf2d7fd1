import { HttpRequest } from '@azure/functions';
import { invalid, stale } from '../domain/errors';

/**
 * API ETags are weak and opaque like Graph's (`W/"base64"`); inside is the Table Storage ETag of
 * the entity's row, so an If-Match from a client becomes the storage write condition unchanged.
 */
export function toApiEtag(storageEtag: string): string {
  return `W/"${Buffer.from(storageEtag, 'utf8').toString('base64')}"`;
}

/** Table Storage ETags are `W/"datetime'<url-encoded ISO timestamp>'"`; storage answers another If-Match with 400. */
const storageEtagPattern = /^W\/"datetime'\d{4}-\d{2}-\d{2}T\d{2}%3A\d{2}%3A\d{2}(?:\.\d{1,7})?Z'"$/;

export function fromApiEtag(apiEtag: string): string | undefined {
  const match = /^(?:W\/)?"([A-Za-z0-9+/=]+)"$/.exec(apiEtag.trim());
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  return toApiEtag(decoded) === `W/"${match[1]}"` ? decoded : undefined;
}

/**
 * The storage ETag a client's If-Match demands (SPEC §2.2: required on PATCH and DELETE).
 * `*` matches any version. An ETag we never issued can only be stale: 412.
 */
export function requireIfMatch(request: HttpRequest): string {
  const etag = optionalIfMatch(request);
  if (etag === undefined) throw invalid("The 'If-Match' header is required: send the entity's @odata.etag value.");
  if (etag === null) throw stale('The If-Match ETag does not match the current version of the entity.');
  return etag;
}

/**
 * An optional If-Match (SPEC §14: POST …/requests): undefined when absent, `*`, the storage ETag
 * it names, or null for one we never issued, which can only be stale (the caller answers 412 once
 * it knows the entity is visible, so a made-up ETag tells nothing about what exists).
 */
export function optionalIfMatch(request: HttpRequest): string | null | undefined {
  const header = request.headers.get('if-match');
  if (header === null || header.trim() === '') return undefined;
  if (header.trim() === '*') return '*';
  const storageEtag = fromApiEtag(header);
  return storageEtag && storageEtagPattern.test(storageEtag) ? storageEtag : null;
}
