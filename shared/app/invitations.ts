import { config } from '../config';

/** The link a customer approves a relationship at (SPEC §2.3), from the configurable template. */
export function invitationUrl(relationshipId: string): string {
  return config().invitationUrlTemplate.replace('{id}', encodeURIComponent(relationshipId));
}
