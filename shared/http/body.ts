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
  if (nestingDepth(text) > maxJsonDepth) {
    throw invalid(`The request body nests objects and arrays more than ${maxJsonDepth} levels deep.`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw invalid('The request body is not valid JSON.');
  }
  const malformed = firstMalformedString(body);
  if (malformed !== undefined) {
    throw invalid(
      `Invalid request body: property '${malformed || '(root)'}' holds a string that is not well-formed Unicode (a lone surrogate).`,
    );
  }
  return body;
}

/** No resource of this service nests deeper; deeper input is refused before anything recurses over it. */
export const maxJsonDepth = 64;

/** The deepest nesting of objects and arrays in JSON text, by one pass over it (no recursion). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c)
        index++; // a backslash escapes the next character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x7b || char === 0x5b) {
      deepest = Math.max(deepest, ++depth);
    } else if (char === 0x7d || char === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The path of the first string (value or property name) holding a lone surrogate, which JSON's
 * `\ud800` escapes can produce and which storage and URL encoding refuse; undefined if none.
 */
function firstMalformedString(value: unknown): string | undefined {
  const pending: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (pending.length > 0) {
    const { value: current, path } = pending.pop() as { value: unknown; path: string };
    if (typeof current === 'string') {
      if (loneSurrogate.test(current)) return path;
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => pending.push({ value: item, path: `${path}[${index}]` }));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        const itemPath = path ? `${path}.${key}` : key;
        if (loneSurrogate.test(key)) return itemPath;
        pending.push({ value: item, path: itemPath });
      }
    }
  }
  return undefined;
}
