import { odata } from '@azure/data-tables';
import { ConsentGrant } from '../domain/consents';
import { conflict } from '../domain/errors';
import { ensureTables, ignoreStatus, isStatus, tableClient, tableNames } from './tables';

/**
 * Application consents (SPEC §7): partition = customer tenant, row = `{applicationId}|{resourceId}`,
 * one row per consented resource. Creating the row is the uniqueness check: a second POST for the
 * same application and resource is a 409, and adding scopes means DELETE then POST.
 */
const consents = () => tableClient(tableNames.applicationConsents);
const grantKey = (applicationId: string, resourceId: string): string => `${applicationId}|${resourceId}`;

function grantFromRow(row: Record<string, unknown>): ConsentGrant {
  return {
    customerTenantId: String(row.partitionKey),
    applicationId: String(row.applicationId),
    displayName: String(row.displayName),
    enterpriseApplicationId: String(row.enterpriseApplicationId),
    scope: String(row.scope),
    consentedByPartnerTenantId: String(row.consentedByPartnerTenantId),
    createdDateTime: String(row.createdDateTime),
  };
}

export async function insertConsentGrant(grant: ConsentGrant): Promise<void> {
  await ensureTables();
  try {
    await consents().createEntity({
      partitionKey: grant.customerTenantId,
      rowKey: grantKey(grant.applicationId, grant.enterpriseApplicationId),
      ...grant,
    });
  } catch (error) {
    if (isStatus(error, 409)) {
      throw conflict(
        `Permission entry already exists: the application '${grant.applicationId}' already has a consent for resource '${grant.enterpriseApplicationId}' in this customer. To add scopes, DELETE the application's consent, then POST it again with all the scopes.`,
      );
    }
    throw error;
  }
}

/** Grants in a customer, of one application or of all. */
export async function listConsentGrants(customerTenantId: string, applicationId?: string): Promise<ConsentGrant[]> {
  await ensureTables();
  const filter = applicationId
    ? odata`PartitionKey eq ${customerTenantId} and RowKey ge ${`${applicationId}|`} and RowKey lt ${`${applicationId}}`}`
    : odata`PartitionKey eq ${customerTenantId}`;
  const grants: ConsentGrant[] = [];
  for await (const row of consents().listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
    grants.push(grantFromRow(row));
  }
  return grants;
}

/** Revokes an application's consent (all its resources); false when there was none. */
export async function deleteConsent(customerTenantId: string, applicationId: string): Promise<boolean> {
  const grants = await listConsentGrants(customerTenantId, applicationId);
  if (grants.length === 0) return false;
  for (let start = 0; start < grants.length; start += 100) {
    await consents()
      .submitTransaction(
        grants
          .slice(start, start + 100)
          .map((grant) => [
            'delete',
            { partitionKey: customerTenantId, rowKey: grantKey(grant.applicationId, grant.enterpriseApplicationId) },
          ]),
      )
      .catch(ignoreStatus(404));
  }
  return true;
}
