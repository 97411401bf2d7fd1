import { HttpMethod } from '@azure/functions';
import { HttpRegistration, registeredHttp } from '../registrations';
import { invalid } from '../domain/errors';

/**
 * The table of registered HTTP routes, matched as the Azure Functions host matches route
 * templates (literal segments case-insensitive, `{name}`, `{name?}`, `{*name}`, `{name:constraint}`,
 * with the empty route prefix of host.json). The local host serves requests through it and
 * `$batch` runs its items through it, so a batch item reaches exactly what a plain request would.
 */
interface CompiledRoute {
  registration: HttpRegistration;
  pattern: RegExp;
  paramNames: string[];
}

/**
 * Segments may also mix literals and parameters, as Graph's function calls do:
 * `findTenantInformationByTenantId(tenantId='{tenantId}')` (a quote may arrive as `%27`).
 * The catch-all `{*name}` may be empty, as in ASP.NET routing; `{name:maxlength(0)?}` admits no
 * value at all, which is how an Azure Functions route serves the site root.
 */
function compileRoute(registration: HttpRegistration): CompiledRoute {
  const paramNames: string[] = [];
  const segments = registration.route.split('/').map((segment) => {
    const param = /^\{(\*?)([A-Za-z_][\w]*)(?::([^}?]+))?(\?)?\}$/.exec(segment);
    if (param) {
      const [, catchAll, name, constraint, optional] = param;
      if (constraint === 'maxlength(0)' && optional) return '';
      paramNames.push(name);
      if (catchAll) return '(?:/(.*))?';
      return optional ? '(?:/([^/]+))?' : '/([^/]+)';
    }
    const parts = segment.split(/\{([A-Za-z_]\w*)\}/);
    return `/${parts
      .map((part, index) => {
        if (index % 2 === 1) {
          paramNames.push(part);
          return "([^/']+)";
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/'/g, "(?:'|%27)");
      })
      .join('')}`;
  });
  return { registration, pattern: new RegExp(`^${segments.join('')}/?$`, 'i'), paramNames };
}

export type RouteLookup =
  | { kind: 'found'; registration: HttpRegistration; params: Record<string, string> }
  | { kind: 'methodNotAllowed' }
  | { kind: 'notFound' };

let compiled: { source: readonly HttpRegistration[]; length: number; routes: CompiledRoute[] } | undefined;

/** Registrations are made as function files load; the table is compiled again when more arrived. */
function routes(): CompiledRoute[] {
  const source = registeredHttp();
  if (!compiled || compiled.source !== source || compiled.length !== source.length) {
    compiled = { source, length: source.length, routes: source.map(compileRoute) };
  }
  return compiled.routes;
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw invalid('The request path holds a malformed percent-escape.');
  }
}

/** The registration serving `method` on `pathname` (already stripped of the query), with its route values. */
export function lookupRoute(method: string, pathname: string): RouteLookup {
  let pathMatched = false;
  for (const route of routes()) {
    const match = route.pattern.exec(pathname);
    if (!match) continue;
    pathMatched = true;
    if (!route.registration.methods.includes(method.toUpperCase() as HttpMethod)) continue;
    const params: Record<string, string> = {};
    route.paramNames.forEach((name, index) => {
      const value = match[index + 1];
      if (value !== undefined) params[name] = decodeParam(value);
    });
    return { kind: 'found', registration: route.registration, params };
  }
  return pathMatched ? { kind: 'methodNotAllowed' } : { kind: 'notFound' };
}
