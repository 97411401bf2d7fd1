import { TableEntityResult } from '@azure/data-tables';
import { Customer, DelegatedAccessFacts, missingDelegatedAccess } from '../domain/customers';
import { conflict, forbidden } from '../domain/errors';
import { appRoles, hasAppRole, Principal } from '../domain/principal';
import { principalAccessTo } from './access';
import { hasDap } from './dap';
import { activeRelationshipsWith } from './relationships';
import { encodeKey, ensureTables, isStatus, tableClient, tableNames } from './tables';

/**
 * Customers created through Partner Center (SPEC §5.2). Rows of the Customers table:
 *   ({customerTenantId}, profile)        the company profile and the reseller partner
 *   (domain|{initial domain}, domain)    reserves an initial domain for one customer
 * The reservation is written first; one whose customer never got a profile row (a crash between
 * the two writes) is taken over by the next customer asking for that domain.
 */
const customers = () => tableClient(tableNames.customers);
const profileRow = 'profile';
const domainRow = 'domain';
const domainPartition = (domain: string): string => `domain|${encodeKey(domain.toLowerCase())}`;

function customerFromRow(row: Record<string, unknown>): Customer {
  return {
    tenantId: String(row.partitionKey),
    companyProfile: { companyName: String(row.companyName), domain: String(row.domain) },
    resellerPartnerTenantId: row.resellerPartnerTenantId ? String(row.resellerPartnerTenantId) : null,
    adminUserId: String(row.adminUserId),
    createdDateTime: String(row.createdDateTime),
  };
}

export async function findCustomer(customerTenantId: string): Promise<Customer | undefined> {
  await ensureTables();
  try {
    return customerFromRow(await customers().getEntity(customerTenantId.toLowerCase(), profileRow));
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** The customer whose initial domain this is (Partner Center also takes it in place of the id). */
export async function findCustomerIdByDomain(domain: string): Promise<string | undefined> {
  await ensureTables();
  try {
    const reservation = await customers().getEntity(domainPartition(domain), domainRow);
    const customerTenantId = String(reservation.customerTenantId);
    // A reservation whose customer never got its profile (a crash between the writes) names no one.
    return (await findCustomer(customerTenantId)) ? customerTenantId : undefined;
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/**
 * Ends the partner's reseller relationship with its customer: false when the partner is not (or no
 * longer) its reseller. Conditional on the row read, so two requests cannot both report the end.
 */
export async function endResellerRelationship(customerTenantId: string, partnerTenantId: string): Promise<boolean> {
  await ensureTables();
  for (;;) {
    let row: TableEntityResult<Record<string, unknown>>;
    try {
      row = await customers().getEntity(customerTenantId, profileRow);
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
    if (row.resellerPartnerTenantId !== partnerTenantId) return false;
    try {
      await customers().updateEntity(
        { partitionKey: customerTenantId, rowKey: profileRow, resellerPartnerTenantId: '' },
        'Merge',
        { etag: row.etag },
      );
      return true;
    } catch (error) {
      if (!isStatus(error, 412)) throw error;
    }
  }
}

const domainTaken = (domain: string) =>
  conflict(`The domain '${domain}' is already in use by another customer. Choose another initial domain.`);

async function reserveDomain(domain: string, customerTenantId: string): Promise<void> {
  const reservation = { partitionKey: domainPartition(domain), rowKey: domainRow, customerTenantId };
  try {
    await customers().createEntity(reservation);
    return;
  } catch (error) {
    if (!isStatus(error, 409)) throw error;
  }
  let existing: TableEntityResult<Record<string, unknown>>;
  try {
    existing = await customers().getEntity(reservation.partitionKey, domainRow);
  } catch (error) {
    if (isStatus(error, 404)) return reserveDomain(domain, customerTenantId);
    throw error;
  }
  if (await findCustomer(String(existing.customerTenantId))) throw domainTaken(domain);
  try {
    await customers().updateEntity(reservation, 'Replace', { etag: existing.etag });
  } catch (error) {
    if (isStatus(error, 412) || isStatus(error, 404)) throw domainTaken(domain);
    throw error;
  }
}

/** Stores a new customer, its initial domain unique across customers (409 when taken). */
export async function insertCustomer(customer: Customer): Promise<void> {
  await ensureTables();
  await reserveDomain(customer.companyProfile.domain, customer.tenantId);
  await customers().createEntity({
    partitionKey: customer.tenantId,
    rowKey: profileRow,
    companyName: customer.companyProfile.companyName,
    domain: customer.companyProfile.domain,
    resellerPartnerTenantId: customer.resellerPartnerTenantId ?? '',
    adminUserId: customer.adminUserId,
    createdDateTime: customer.createdDateTime,
  });
}

/** The facts that decide whether a partner user sees a customer's data, read fresh. */
export async function delegatedAccessFacts(
  principal: Principal,
  customerTenantId: string,
): Promise<DelegatedAccessFacts> {
  const customer = customerTenantId.toLowerCase();
  const [access, dap, relationships] = await Promise.all([
    principalAccessTo(principal, customer),
    hasDap(principal.tenantId, customer),
    activeRelationshipsWith(principal.tenantId, customer),
  ]);
  return {
    customerTenantId: customer,
    access,
    partnerHasDap: dap,
    partnerActiveGdapRelationships: relationships.length,
    isAdminAgent: hasAppRole(principal, appRoles.adminAgent),
  };
}

/**
 * Refuses (403, naming the missing DAP or GDAP) a partner user without effective access to the
 * customer (SPEC §5.2): company details, users, licences and support tickets all need it.
 * `purpose` completes "you cannot …", e.g. "file support tickets for this customer".
 */
export async function assertDelegatedAccess(
  principal: Principal,
  customerTenantId: string,
  purpose: string,
): Promise<DelegatedAccessFacts> {
  const facts = await delegatedAccessFacts(principal, customerTenantId);
  const reason = missingDelegatedAccess(facts, purpose);
  if (reason) throw forbidden(reason);
  return facts;
}
