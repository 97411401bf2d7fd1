import { odata, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { conflict } from '../domain/errors';
import { normalizeName } from '../domain/relationships';
import { GdapTemplate } from '../domain/templates';
import { CollectionQuery, CollectionSpec } from '../query/odata';
import { Page, queryCollection, Stored } from './paging';
import { Entity } from './rows';
import { conditionalWrite, encodeKey, ensureTables, ignoreStatus, isStatus, tableClient, tableNames } from './tables';

/**
 * GDAP templates and their customers (SPEC §15.1, §15.2), in the GdapTemplates table:
 *   PK {partner}            RK tpl|{templateId}      the template
 *   PK {partner}            RK name|{lower-case name} reserves its display name (same transaction)
 *   PK c|{partner}|{2 hex}  RK {customerTenantId}     the customer's tie to its one template, and the
 *                                                     relationship the service made for it from there
 * A tie whose template no longer exists is free: deleting a template frees its customers at once,
 * and their rows are removed after it.
 */
const templates = () => tableClient(tableNames.gdapTemplates);

const templatePrefix = 'tpl|';
const templateKey = (id: string): string => `${templatePrefix}${id}`;
const nameKey = (displayName: string): string => `name|${encodeKey(normalizeName(displayName))}`;

const nameTaken = (displayName: string) =>
  conflict(`A template named '${displayName}' already exists for this partner. Template names must be unique.`);

function templateToRow(template: GdapTemplate): Entity {
  return {
    partitionKey: template.partnerTenantId,
    rowKey: templateKey(template.id),
    id: template.id,
    displayName: template.displayName,
    description: template.description ?? '',
    duration: template.duration,
    autoExtendDuration: template.autoExtendDuration,
    assignments: JSON.stringify(template.assignments),
    relationshipNamePrefix: template.relationshipNamePrefix,
    createdDateTime: template.createdDateTime,
    lastModifiedDateTime: template.lastModifiedDateTime,
  };
}

function templateFromRow(row: Record<string, unknown>): GdapTemplate {
  return {
    id: String(row.id),
    partnerTenantId: String(row.partitionKey),
    displayName: String(row.displayName),
    description: typeof row.description === 'string' && row.description !== '' ? row.description : null,
    duration: String(row.duration),
    autoExtendDuration: row.autoExtendDuration === 'P180D' ? 'P180D' : 'PT0S',
    assignments: JSON.parse(String(row.assignments)) as GdapTemplate['assignments'],
    relationshipNamePrefix: String(row.relationshipNamePrefix),
    createdDateTime: String(row.createdDateTime),
    lastModifiedDateTime: String(row.lastModifiedDateTime),
  };
}

const nameRow = (template: GdapTemplate): Entity => ({
  partitionKey: template.partnerTenantId,
  rowKey: nameKey(template.displayName),
  templateId: template.id,
});

/** A 409 from a transaction that creates a name reservation: the name is taken. */
async function reservingName<T>(template: GdapTemplate, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isStatus(error, 409)) throw nameTaken(template.displayName);
    throw error;
  }
}

export async function insertTemplate(template: GdapTemplate): Promise<Stored<GdapTemplate>> {
  await ensureTables();
  const response = await reservingName(
    template,
    templates().submitTransaction([
      ['create', templateToRow(template)],
      ['create', nameRow(template)],
    ]),
  );
  return { value: template, etag: response.subResponses[0].etag as string };
}

export async function findTemplate(partnerTenantId: string, id: string): Promise<Stored<GdapTemplate> | undefined> {
  await ensureTables();
  try {
    const row = await templates().getEntity<Record<string, unknown>>(partnerTenantId, templateKey(id.toLowerCase()));
    return row.deleted === true ? undefined : { value: templateFromRow(row), etag: row.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** Replaces a template still at `etag` (412 otherwise), moving its name reservation when it is renamed. */
export async function replaceTemplate(
  previous: GdapTemplate,
  next: GdapTemplate,
  etag: string,
): Promise<Stored<GdapTemplate>> {
  await ensureTables();
  const actions: TransactionAction[] = [['update', templateToRow(next), 'Replace', { etag }]];
  const renamed = nameKey(previous.displayName) !== nameKey(next.displayName);
  if (renamed) {
    actions.push(['delete', { partitionKey: previous.partnerTenantId, rowKey: nameKey(previous.displayName) }]);
    actions.push(['create', nameRow(next)]);
  }
  const write = conditionalWrite(templates().submitTransaction(actions));
  const response = renamed ? await reservingName(next, write) : await write;
  return { value: next, etag: response.subResponses[0].etag as string };
}

/**
 * Deletes a template still at `etag`: a tombstone and the name's release in one transaction (a
 * delete in a transaction cannot be conditional), then the row. Its customers are free from then.
 */
export async function deleteTemplate(template: GdapTemplate, etag: string): Promise<void> {
  await ensureTables();
  const key = { partitionKey: template.partnerTenantId, rowKey: templateKey(template.id) };
  await conditionalWrite(
    templates().submitTransaction([
      ['update', { ...key, deleted: true }, 'Merge', { etag }],
      ['delete', { partitionKey: template.partnerTenantId, rowKey: nameKey(template.displayName) }],
    ]),
  );
  await templates().deleteEntity(key.partitionKey, key.rowKey).catch(ignoreStatus(404));
}

export async function listTemplates(
  partnerTenantId: string,
  query: CollectionQuery,
  spec: CollectionSpec<GdapTemplate>,
): Promise<Page<GdapTemplate>> {
  await ensureTables();
  return queryCollection({
    client: templates(),
    sources: [{ partitions: odata`PartitionKey eq ${partnerTenantId}`, rowKeyPrefix: templatePrefix }],
    query,
    spec,
    fromRow: templateFromRow,
    skip: (row) => row.deleted === true,
  });
}

/**
 * A customer's tie to a template (SPEC §15.2: at most one per customer and partner) and what the
 * service made for it: the relationship id and name are recorded *before* the relationship is
 * created, so a rerun after a crash finds and finishes that relationship instead of making another.
 * `jobId`/`itemId` name the job item onboarding the customer, which the approval continues.
 */
export interface TemplateTie {
  partnerTenantId: string;
  customerTenantId: string;
  templateId: string;
  relationshipId: string | null;
  relationshipName: string | null;
  jobId: string | null;
  itemId: string | null;
  /** A renewal's old relationship (SPEC §15.2 `renew`), terminated once the new one is active. */
  previousRelationshipId?: string | null;
}

const tiePartition = (partnerTenantId: string, customerTenantId: string): string =>
  `c|${partnerTenantId}|${customerTenantId.slice(0, 2)}`;

const optional = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

function tieToRow(tie: TemplateTie): Entity {
  return {
    partitionKey: tiePartition(tie.partnerTenantId, tie.customerTenantId),
    rowKey: tie.customerTenantId,
    templateId: tie.templateId,
    relationshipId: tie.relationshipId ?? '',
    relationshipName: tie.relationshipName ?? '',
    jobId: tie.jobId ?? '',
    itemId: tie.itemId ?? '',
    previousRelationshipId: tie.previousRelationshipId ?? '',
  };
}

function tieFromRow(row: TableEntityResult<Record<string, unknown>>): TemplateTie {
  const partitionKey = String(row.partitionKey);
  return {
    partnerTenantId: partitionKey.split('|')[1],
    customerTenantId: String(row.rowKey),
    templateId: String(row.templateId),
    relationshipId: optional(row.relationshipId),
    relationshipName: optional(row.relationshipName),
    jobId: optional(row.jobId),
    itemId: optional(row.itemId),
    previousRelationshipId: optional(row.previousRelationshipId),
  };
}

export async function findTie(
  partnerTenantId: string,
  customerTenantId: string,
): Promise<Stored<TemplateTie> | undefined> {
  await ensureTables();
  try {
    const row = await templates().getEntity<Record<string, unknown>>(
      tiePartition(partnerTenantId, customerTenantId),
      customerTenantId,
    );
    return { value: tieFromRow(row), etag: row.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** Creates a tie; undefined when the customer already has one (read it and decide again). */
export async function insertTie(tie: TemplateTie): Promise<Stored<TemplateTie> | undefined> {
  await ensureTables();
  try {
    const response = await templates().createEntity(tieToRow(tie));
    return { value: tie, etag: response.etag as string };
  } catch (error) {
    if (isStatus(error, 409)) return undefined;
    throw error;
  }
}

/** Replaces a tie still at `etag` (a `stale` error otherwise). */
export async function replaceTie(tie: TemplateTie, etag: string): Promise<Stored<TemplateTie>> {
  await ensureTables();
  const response = await conditionalWrite(templates().updateEntity(tieToRow(tie), 'Replace', { etag }));
  return { value: tie, etag: response.etag as string };
}

export async function deleteTie(tie: Stored<TemplateTie>): Promise<void> {
  await ensureTables();
  await conditionalWrite(
    templates().deleteEntity(
      tiePartition(tie.value.partnerTenantId, tie.value.customerTenantId),
      tie.value.customerTenantId,
      {
        etag: tie.etag,
      },
    ),
  );
}

/** Every customer tied to a template, in customer id order (the partner's ties, filtered in storage). */
export async function* tiesOf(partnerTenantId: string, templateId: string): AsyncIterable<Stored<TemplateTie>> {
  await ensureTables();
  const filter = odata`PartitionKey ge ${`c|${partnerTenantId}|`} and PartitionKey lt ${`c|${partnerTenantId}}`} and templateId eq ${templateId}`;
  for await (const row of templates().listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
    yield { value: tieFromRow(row), etag: row.etag };
  }
}

/** Removes the ties of a deleted template (they are free already; this only tidies up). */
export async function removeTiesOf(partnerTenantId: string, templateId: string): Promise<void> {
  for await (const { value, etag } of tiesOf(partnerTenantId, templateId)) {
    await templates()
      .deleteEntity(tiePartition(value.partnerTenantId, value.customerTenantId), value.customerTenantId, { etag })
      .catch(ignoreStatus(404, 412));
  }
}

/** A page of a template's customers in customer id order, resuming after `after` (a customer id). */
export async function tiePage(
  partnerTenantId: string,
  templateId: string,
  top: number,
  after: string | undefined,
): Promise<{ ties: Stored<TemplateTie>[]; more: boolean }> {
  await ensureTables();
  let filter = odata`PartitionKey ge ${`c|${partnerTenantId}|`} and PartitionKey lt ${`c|${partnerTenantId}}`} and templateId eq ${templateId}`;
  if (after !== undefined) filter += ` and ${odata`RowKey gt ${after}`}`;
  const ties: Stored<TemplateTie>[] = [];
  const pages = templates()
    .listEntities<Record<string, unknown>>({ queryOptions: { filter } })
    .byPage({ maxPageSize: Math.min(top + 1, 1000) });
  for await (const page of pages) {
    for (const row of page) {
      if (ties.length === top) return { ties, more: true };
      ties.push({ value: tieFromRow(row), etag: row.etag });
    }
  }
  return { ties, more: false };
}
