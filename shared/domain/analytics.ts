import { DateTime } from 'luxon';
import { z } from 'zod';
import { AutoExtendDuration, parseAutoExtendDuration } from './durations';
import { invalid } from './errors';
import { willAutoExtend } from './maintenance';
import { Relationship, relationshipStatuses } from './relationships';
import { globalAdministratorRoleId } from './roles';
import { parseBody } from './schema';
import { fromGraphDateTime } from './time';

/**
 * GDAP analytics of a partner (SPEC §9): counts over its relationships, decided from the stored
 * relationships, which of the active ones have an active access assignment, and `now`.
 */
export const endingWindowsDays = [30, 60, 90] as const;

export interface RelationshipAnalytics {
  byStatus: Record<string, number>;
  endingWithinDays: Record<string, number>;
  notAutoExtendableGlobalAdministrator: number;
  activeWithoutAccessAssignments: number;
}

/**
 * - byStatus: every status (but unknownFutureValue), zeros included;
 * - endingWithinDays: active relationships that will not auto-extend and end at most N days from
 *   now (cumulative: the 60-day count includes the 30-day one);
 * - notAutoExtendableGlobalAdministrator: active relationships that hold Global Administrator,
 *   which rules auto-extension out;
 * - activeWithoutAccessAssignments: active relationships that grant nobody anything.
 */
export function relationshipAnalytics(
  relationships: readonly Relationship[],
  hasActiveAssignment: (relationship: Relationship) => boolean,
  now: DateTime,
): RelationshipAnalytics {
  const byStatus: Record<string, number> = Object.fromEntries(
    relationshipStatuses.filter((status) => status !== 'unknownFutureValue').map((status) => [status, 0]),
  );
  const endingWithinDays: Record<string, number> = Object.fromEntries(endingWindowsDays.map((days) => [days, 0]));
  let notAutoExtendableGlobalAdministrator = 0;
  let activeWithoutAccessAssignments = 0;
  for (const relationship of relationships) {
    byStatus[relationship.status] = (byStatus[relationship.status] ?? 0) + 1;
    if (relationship.status !== 'active') continue;
    if (relationship.roleIds.includes(globalAdministratorRoleId)) notAutoExtendableGlobalAdministrator++;
    if (!hasActiveAssignment(relationship)) activeWithoutAccessAssignments++;
    if (relationship.endDateTime && !willAutoExtend(relationship)) {
      const end = fromGraphDateTime(relationship.endDateTime);
      for (const days of endingWindowsDays) if (end <= now.plus({ days })) endingWithinDays[days]++;
    }
  }
  return { byStatus, endingWithinDays, notAutoExtendableGlobalAdministrator, activeWithoutAccessAssignments };
}

/** At most this many relationships per bulk auto-extend call (SPEC §9). */
export const maxBulkAutoExtend = 25;

export interface BulkAutoExtendRequest {
  relationshipIds: string[];
  autoExtendDuration: AutoExtendDuration;
}

const bulkSchema = z.strictObject({ relationshipIds: z.array(z.string()), autoExtendDuration: z.string() });

export function parseBulkAutoExtend(body: unknown): BulkAutoExtendRequest {
  const input = parseBody(bulkSchema, body);
  const count = input.relationshipIds.length;
  if (count === 0) throw invalid(`'relationshipIds' must name at least one relationship.`);
  if (count > maxBulkAutoExtend) {
    throw invalid(
      `'relationshipIds' names ${count} relationships; at most ${maxBulkAutoExtend} can be changed per call. Split the request.`,
    );
  }
  const seen = new Set<string>();
  for (const id of input.relationshipIds) {
    if (seen.has(id.toLowerCase())) throw invalid(`'relationshipIds' names '${id}' twice.`);
    seen.add(id.toLowerCase());
  }
  return {
    relationshipIds: input.relationshipIds,
    autoExtendDuration: parseAutoExtendDuration(input.autoExtendDuration),
  };
}
