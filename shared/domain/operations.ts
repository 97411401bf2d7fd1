import { DateTime } from 'luxon';
import { toGraphDateTime } from './time';

/**
 * Long-running operations of SPEC §3.3. Changes are applied synchronously here, so an operation
 * is stored already finished; clients following the 202's Location find it `succeeded` with the
 * updated entity in `data`, exactly as they would once Graph finished.
 */
export const operationTypes = ['delegatedAdminAccessAssignmentUpdate', 'delegatedAdminRelationshipUpdate'] as const;
export type OperationType = (typeof operationTypes)[number];
export const operationStatuses = ['notStarted', 'running', 'succeeded', 'failed', 'unknownFutureValue'] as const;
export type OperationStatus = (typeof operationStatuses)[number];

export interface Operation {
  id: string;
  relationshipId: string;
  operationType: OperationType;
  /** The target entity as Graph serialises it: a JSON string. */
  data: string;
  status: OperationStatus;
  createdDateTime: string;
  lastModifiedDateTime: string;
}

export function succeededOperation(
  id: string,
  relationshipId: string,
  operationType: OperationType,
  target: object,
  now: DateTime,
): Operation {
  const timestamp = toGraphDateTime(now);
  return {
    id,
    relationshipId,
    operationType,
    data: JSON.stringify(target),
    status: 'succeeded',
    createdDateTime: timestamp,
    lastModifiedDateTime: timestamp,
  };
}
