import { z } from 'zod';
import { invalid } from './errors';

/** OData annotations (`@odata.type` and friends) are metadata, not properties: clients may send them. */
function withoutAnnotations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutAnnotations);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !key.startsWith('@odata.'))
      .map(([key, inner]) => [key, withoutAnnotations(inner)]),
  );
}

function describePath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index ? '.' : ''}${String(segment)}`))
    .join('');
}

function messageFor(issue: z.core.$ZodIssue): string {
  const base = issue.path.length ? describePath(issue.path) : '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const names = issue.keys.map((key) => `'${base ? `${base}.${key}` : key}'`).join(', ');
      return `Invalid request body: property ${names} is not supported on this resource.`;
    }
    case 'invalid_type':
      if (issue.input === undefined) return `Invalid request body: required property '${base}' is missing.`;
      return `Invalid request body: property '${base}' must be of type ${issue.expected}.`;
    default:
      return `Invalid request body: property '${base}': ${issue.message}`;
  }
}

/**
 * Validates a JSON body against a strict schema with Graph-style messages that name the property.
 * Read-only properties get their own message, since a client sending them back is a common mistake.
 */
export function parseBody<Schema extends z.ZodType>(
  schema: Schema,
  body: unknown,
  readOnlyProperties: readonly string[] = [],
): z.infer<Schema> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('Invalid request body: a JSON object is expected.');
  }
  const cleaned = withoutAnnotations(body) as Record<string, unknown>;
  const readOnly = readOnlyProperties.find((name) => name in cleaned);
  if (readOnly) throw invalid(`Invalid request body: property '${readOnly}' is read-only and cannot be set.`);
  // reportInput: zod v4 leaves `input` off issues otherwise, and a wrong type would read as "missing".
  const result = schema.safeParse(cleaned, { reportInput: true });
  if (!result.success) {
    // An unknown property explains the other failures more often than not: name it first.
    const issues = result.error.issues;
    throw invalid(messageFor(issues.find((issue) => issue.code === 'unrecognized_keys') ?? issues[0]));
  }
  return result.data;
}

/**
 * Partner Center binds property names case-insensitively (`ApplicationId` is `applicationId`,
 * SPEC §14): renames each property of `value` to the schema's spelling, through nested objects
 * and arrays. Unknown names are left alone for the strict schema to refuse, and two spellings of
 * one property are refused here.
 */
function bindPropertyNames(schema: z.ZodType, value: unknown, readOnlyNames: readonly string[] = []): unknown {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) {
    return bindPropertyNames(schema.unwrap() as z.ZodType, value);
  }
  if (schema instanceof z.ZodArray) {
    return Array.isArray(value) ? value.map((item) => bindPropertyNames(schema.element as z.ZodType, item)) : value;
  }
  if (!(schema instanceof z.ZodObject) || value === null || typeof value !== 'object' || Array.isArray(value)) {
    return value;
  }
  const shape = schema.shape as Record<string, z.ZodType>;
  const byLowerName = new Map([...readOnlyNames, ...Object.keys(shape)].map((name) => [name.toLowerCase(), name]));
  const bound: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(value)) {
    const canonical = name.startsWith('@') ? name : (byLowerName.get(name.toLowerCase()) ?? name);
    if (canonical in bound) throw invalid(`Invalid request body: property '${canonical}' is given more than once.`);
    bound[canonical] = canonical in shape ? bindPropertyNames(shape[canonical], inner) : inner;
  }
  return bound;
}

/** `parseBody` for Partner Center (`/v1`) bodies, whose property names bind in any case. */
export function parsePartnerCenterBody<Schema extends z.ZodType>(
  schema: Schema,
  body: unknown,
  readOnlyProperties: readonly string[] = [],
): z.infer<Schema> {
  return parseBody(schema, bindPropertyNames(schema, body, readOnlyProperties), readOnlyProperties);
}
