import { config } from '../config';

/**
 * The customer's invitation link (SPEC §2.3, §17), from the configurable template; `baseUrl` is
 * PUBLIC_BASE_URL or the origin of the request that locked it (a job: the request that created it).
 */
export function invitationUrl(relationshipId: string, baseUrl: string): string {
  return config()
    .invitationUrlTemplate.replace('{baseUrl}', baseUrl)
    .replace('{id}', encodeURIComponent(relationshipId));
}
