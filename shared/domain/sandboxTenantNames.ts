import { createHash } from 'node:crypto';

/**
 * The readable name the sandbox gives a tenant it meets with none of its own (SPEC §14): one of
 * Microsoft's fictitious company names, picked by the tenant id, with the id's first characters
 * so two tenants never read alike. The same tenant always gets the same name.
 */
const companies = [
  'Contoso',
  'Fabrikam',
  'Northwind Traders',
  'Adventure Works',
  'Tailspin Toys',
  'Wingtip Toys',
  'Woodgrove Bank',
  'Litware',
  'Proseware',
  'Lucerne Publishing',
  'Coho Winery',
  'Alpine Ski House',
  'Blue Yonder Airlines',
  'Fourth Coffee',
  "Margie's Travel",
  'Trey Research',
  'Wide World Importers',
  'Humongous Insurance',
  'Relecloud',
  'A. Datum',
  'Consolidated Messenger',
  'Southridge Video',
  'Lamna Healthcare',
  'VanArsdel',
] as const;

export function sandboxTenantName(tenantId: string): string {
  const id = tenantId.toLowerCase();
  const index = createHash('sha256').update(id).digest().readUInt32BE(0) % companies.length;
  return `${companies[index]} (${id.slice(0, 6)})`;
}
