import { HttpRequest } from '@azure/functions';
import { config } from '../config';
import { DomainError, invalid, tooLarge as payloadTooLarge, unsupportedMediaType } from '../domain/errors';

function isJsonMediaType(contentType: string | null): boolean {
  if (!contentType) return false;
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  return mediaType === 'application/json';
}

/** Reads a JSON request body: JSON only (415), at most 64 KiB unless a route allows more (413), well-formed (400). */
export async function readJsonBody(request: HttpRequest, limit = config().maxBodyBytes): Promise<unknown> {
  const tooLarge = (): DomainError =>
    payloadTooLarge(`The request body is larger than the ${limit / 1024} KiB this service accepts.`);
  const declaredLength = Number(request.headers.get('content-length') ?? '0');
  if (declaredLength > limit) throw tooLarge();
  if (!isJsonMediaType(request.headers.get('content-type'))) {
    throw unsupportedMediaType("The request body must be JSON, sent with 'Content-Type: application/json'.");
  }
  const text = await request.text();
  if (Buffer.byteLength(text, 'utf8') > limit) throw tooLarge();
  if (text.trim() === '') throw invalid('A JSON request body is required.');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid('The request body is not valid JSON.');
  }
}
