import { DateTime } from 'luxon';
import { DomainError } from '../../shared/domain/errors';
import { isGuid } from '../../shared/domain/ids';
import { createRelationship } from '../../shared/domain/relationships';
import catalogData from '../../shared/domain/roleCatalog.json';
import { deriveRole, isReadAction } from '../../scripts/updateRoleCatalog';
import {
  builtInRoles,
  customerDelegatedAdminPermission,
  findRole,
  isBuiltInRole,
  roleAssignmentsPermission,
  rolesGrantPermission,
  servicesManagedBy,
  supportTicketsPermission,
} from '../../shared/domain/roles';

/** The role catalog (SPEC §13): every built-in Entra role template, as data. */

const now = DateTime.fromISO('2026-05-01T10:00:00Z', { zone: 'utc' });
const partnerTenantId = '11111111-1111-4111-8111-111111111111';

const createWith = (roleIds: string[]) =>
  createRelationship(
    {
      displayName: 'Catalog check',
      duration: 'P730D',
      accessDetails: { unifiedRoles: roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
    },
    { id: `${partnerTenantId}-${partnerTenantId}`, partnerTenantId },
    now,
  );

/** SPEC §13's template ids, by display name. */
const specRoles: Record<string, string> = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Directory Readers': '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
  'Directory Writers': '9360feb5-f418-4baa-8175-e2a00bac4301',
  'License Administrator': '4d6ac14f-3453-41d0-bef9-a3e0c569773a',
  'Service Support Administrator': 'f023fd81-a637-4b56-95fd-791ac0226033',
  'User Administrator': 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  'Helpdesk Administrator': '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  'Privileged Authentication Administrator': '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
  'Cloud Application Administrator': '158c047a-c907-4556-b7ef-446551a6b5f7',
  'Application Administrator': '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  'External Identity Provider Administrator': 'be2f45a1-457d-42af-a067-6ec1fa63bc45',
  'Domain Name Administrator': '8329153b-31d0-4727-b945-745eb3bc5f31',
  'Authentication Administrator': 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
  'Security Reader': '5d6b6bb7-de71-4623-b4af-96380a352509',
  'Security Administrator': '194ae4cb-b126-40b2-bd5b-6091b380977d',
  'Exchange Administrator': '29232cdf-9323-42fd-ade2-1d097af3e4de',
  'SharePoint Administrator': 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c',
  'Teams Administrator': '69091246-20e8-4a56-aa4d-066075b2a7a8',
  'Intune Administrator': '3a2c62db-5318-420d-8d74-23affee5d9d5',
  'Billing Administrator': 'b0f54661-2d74-4c50-afa3-1ec803f12efe',
  'Reports Reader': '4a5d8f65-41da-4de4-8968-e035b65339cf',
  'Dynamics 365 Administrator': '44367163-eba1-44c3-98af-f5787879f96a',
  'Compliance Data Administrator': 'e6d1a23a-da11-4be4-9570-befc86d067a7',
  'Azure DevOps Administrator': 'e3973bdf-4987-49ae-837a-ba8e231c7286',
  'Groups Administrator': 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
  'Password Administrator': '966707d0-3269-4727-9be2-8c3a10f19b9d',
  'Power Platform Administrator': '11648597-926c-4cf3-9c36-bcebb0ba8dcc',
  'Compliance Administrator': '17315797-102d-40b4-93e0-432062caca18',
  'Conditional Access Administrator': 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9',
  'Cloud Device Administrator': '7698a772-787b-4ac8-901f-60d6b08affd2',
  'Hybrid Identity Administrator': '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2',
  'Security Operator': '5f2222b1-57c3-48ba-8ad5-d4759f1fde6f',
  'Teams Communications Administrator': 'baf37b3a-610e-45da-9e62-d9d1e5e8914b',
  'Windows 365 Administrator': '11451d60-acb2-45eb-a7d6-43d0f0125c13',
  'Partner Tier1 Support': '4ba39ca4-527c-499a-b93d-d9b492c50246',
  'Partner Tier2 Support': 'e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8',
  // Named in SPEC §13's prose: real clients request them.
  'Authentication Policy Administrator': '0526716b-113d-4c15-b2c8-68e3c22b9f80',
  'Cloud App Security Administrator': '892c5842-a9a6-463a-8041-72aa08ca3cf6',
  'Customer Delegated Admin Relationship Administrator': 'fc8ad4e2-40e4-4724-8317-bcda7503ecbf',
  'Fabric Administrator': 'a9ea8996-122f-4c74-9520-8edcd192826c',
};

const withSupportTickets = [
  'Global Administrator',
  'Service Support Administrator',
  'Helpdesk Administrator',
  'User Administrator',
  'Partner Tier1 Support',
  'Partner Tier2 Support',
  'Application Administrator',
  'Cloud Application Administrator',
  'Authentication Administrator',
  'Privileged Authentication Administrator',
  'Billing Administrator',
  'Compliance Administrator',
  'Compliance Data Administrator',
  'Dynamics 365 Administrator',
  'Exchange Administrator',
  'Fabric Administrator',
  'Groups Administrator',
  'Hybrid Identity Administrator',
  'Intune Administrator',
  'Power Platform Administrator',
  'Security Administrator',
  'Security Operator',
  'SharePoint Administrator',
  'Teams Administrator',
  'Teams Communications Administrator',
  'Windows 365 Administrator',
];
const withoutSupportTickets = [
  'Global Reader',
  'Directory Readers',
  'Directory Writers',
  'Security Reader',
  'Reports Reader',
  'Privileged Role Administrator',
  'Password Administrator',
  'License Administrator',
];
const readOnlyRoles = [
  'Global Reader',
  'Directory Readers',
  'Security Reader',
  'Reports Reader',
  'Partner Tier2 Support',
];

/** Roles newer than SPEC §13's list, with the template ids Microsoft's reference gives them (June 2026). */
const newerRoles: Record<string, string> = {
  'AI Reader': '1fe13547-53f6-408d-ac04-7f8eed167b38',
  'Authentication Extensibility Password Administrator': '0b00bede-4072-4d22-b441-e7df02a1ef63',
  'Entra Backup Administrator': 'b6a27b2b-f905-4b2e-81b5-0d90e0ef1fdb',
  'Entra Backup Reader': 'f42252d9-5400-4d7b-b9ef-cc582dbb8577',
  'Entra Customer Lockbox Approver': 'd35481f7-cda1-4fa2-8344-5a21f7f3724d',
  'Purview Workload Content Administrator': '3f04f91a-4ad7-4bd3-bcfa-49882ea1a88a',
  'Purview Workload Content Reader': 'e07494ad-1654-4dd2-922e-6f81a71bf00f',
  'Purview Workload Content Writer': '02d5655b-c1cf-4e5f-98da-5fb919085bf6',
  'Teams External Collaboration Administrator': '2fe872fb-daa8-4afc-8f6c-53c4565cfef4',
  'Tenant Governance Administrator': '1981f584-96e9-4a6f-95b0-f522373f8fae',
  'Tenant Governance Reader': 'e0a4caa6-fe82-443f-b92f-d87341d17b2e',
  'Tenant Governance Relationship Administrator': 'b8e31d83-1534-480f-9b10-0338ded51b7e',
  'Tenant Governance Relationship Reader': '124577f8-48ed-456a-839f-13b419002e33',
};

/** Roles the reference lists no actions for: deprecated ones, and ones documented with an empty table. */
const rolesWithoutActions = [
  'Device Join',
  'Device Users',
  'Workplace Device Join',
  'Purview Workload Content Administrator',
  'Purview Workload Content Reader',
  'Purview Workload Content Writer',
];

/** Every role CIPP's GDAP role picker offers (KelvinTegelaar/CIPP src/data/GDAPRoles.json, c6d3734). */
const cippPickerRoles = [
  'd2562ede-74db-457e-a7b6-544e236ebb61', // AI Administrator
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', // Application Administrator
  'cf1c38e5-3621-4004-a7cb-879624dced7c', // Application Developer
  '9c6df0f2-1e7c-4dc3-b195-66dfbd24aa8f', // Attack Payload Author
  'c430b396-e693-46cc-96f3-db01bf8bb62a', // Attack Simulation Administrator
  '58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d', // Attribute Assignment Administrator
  'ffd52fa5-98dc-465c-991d-fc073eb59f8f', // Attribute Assignment Reader
  '8424c6f0-a189-499e-bbd0-26c1753c96d4', // Attribute Definition Administrator
  '1d336d2c-4ae8-42ef-9711-b3604ce3fc2c', // Attribute Definition Reader
  '5b784334-f94b-471a-a387-e7219fc49ca2', // Attribute Log Administrator
  '9c99539d-8186-4804-835f-fd51ef9e2dcd', // Attribute Log Reader
  'c4e39bd9-1100-46d3-8c65-fb160da0071f', // Authentication Administrator
  '25a516ed-2fa0-40ea-a2d0-12923a21473a', // Authentication Extensibility Administrator
  '0526716b-113d-4c15-b2c8-68e3c22b9f80', // Authentication Policy Administrator
  'e3973bdf-4987-49ae-837a-ba8e231c7286', // Azure DevOps Administrator
  '7495fdc4-34c4-4d15-a289-98788ce399fd', // Azure Information Protection Administrator
  'aaf43236-0c0d-4d5f-883a-6955382ac081', // B2C IEF Keyset Administrator
  '3edaf663-341e-4475-9f94-5c398ef6c070', // B2C IEF Policy Administrator
  'b0f54661-2d74-4c50-afa3-1ec803f12efe', // Billing Administrator
  '892c5842-a9a6-463a-8041-72aa08ca3cf6', // Cloud App Security Administrator
  '158c047a-c907-4556-b7ef-446551a6b5f7', // Cloud Application Administrator
  '7698a772-787b-4ac8-901f-60d6b08affd2', // Cloud Device Administrator
  '17315797-102d-40b4-93e0-432062caca18', // Compliance Administrator
  'e6d1a23a-da11-4be4-9570-befc86d067a7', // Compliance Data Administrator
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9', // Conditional Access Administrator
  '5c4f9dcd-47dc-4cf7-8c9a-9e4207cbfc91', // Customer Lockbox Access Approver
  '38a96431-2bdf-4b4c-8b6e-5d3d8abac1a4', // Desktop Analytics Administrator
  '9c094953-4995-41c8-84c8-3ebb9b32c93f', // Device Join
  'd405c6df-0af8-4e3b-95e4-4d06e542189e', // Device Users
  '88d8e3e3-8f55-4a1e-953a-9b9898b8876b', // Directory Readers
  'd29b2b05-8046-44ba-8758-1e26182fcf32', // Directory Synchronization Accounts
  '9360feb5-f418-4baa-8175-e2a00bac4301', // Directory Writers
  '8329153b-31d0-4727-b945-745eb3bc5f31', // Domain Name Administrator
  'e93e3737-fa85-474a-aee4-7d3fb86510f3', // Dragon Administrator
  '44367163-eba1-44c3-98af-f5787879f96a', // Dynamics 365 Administrator
  '963797fb-eb3b-4cde-8ce3-5878b3f32a3f', // Dynamics 365 Business Central Administrator
  '3f1acade-1e04-4fbc-9b69-f0302cd84aef', // Edge Administrator
  '29232cdf-9323-42fd-ade2-1d097af3e4de', // Exchange Administrator
  '31392ffb-586c-42d1-9346-e59415a2cc4e', // Exchange Recipient Administrator
  '6e591065-9bad-43ed-90f3-e9424366d2f0', // External ID User Flow Administrator
  '0f971eea-41eb-4569-a71e-57bb8a3eff1e', // External ID User Flow Attribute Administrator
  'be2f45a1-457d-42af-a067-6ec1fa63bc45', // External Identity Provider Administrator
  'a9ea8996-122f-4c74-9520-8edcd192826c', // Fabric Administrator
  '62e90394-69f5-4237-9190-012177145e10', // Global Administrator
  'f2ef992c-3afb-46b9-b7cf-a126ee74c451', // Global Reader
  'ac434307-12b9-4fa1-a708-88bf58caabc1', // Global Secure Access Administrator
  'fdd7a751-b60b-444a-984c-02652fe8fa1c', // Groups Administrator
  '95e79109-95c0-4d8e-aee3-d01accf2d47b', // Guest Inviter
  '729827e3-9c14-49f7-bb1b-9608f156bbb8', // Helpdesk Administrator
  '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2', // Hybrid Identity Administrator
  '45d8d3c5-c802-45c6-b32a-1d70b5e1e86e', // Identity Governance Administrator
  'eb1f4a8d-243a-41f0-9fbd-c7cdf6c5ef7c', // Insights Administrator
  '25df335f-86eb-4119-b717-0ff02de207e9', // Insights Analyst
  '31e939ad-9672-4796-9c2e-873181342d2d', // Insights Business Leader
  '3a2c62db-5318-420d-8d74-23affee5d9d5', // Intune Administrator
  '74ef975b-6605-40af-a5d2-b9539d836353', // Kaizala Administrator
  'b5a8dcf3-09d5-43a9-a639-8e29ef291470', // Knowledge Administrator
  '744ec460-397e-42ad-a462-8b3f9747a02c', // Knowledge Manager
  '4d6ac14f-3453-41d0-bef9-a3e0c569773a', // License Administrator
  '59d46f88-662b-457b-bceb-5c3809e5908f', // Lifecycle Workflows Administrator
  'ac16e43d-7b2d-40e0-ac05-243ff356ab5b', // Message Center Privacy Reader
  '790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b', // Message Center Reader
  '8c8b803f-96e1-4129-9349-20738d9f9652', // Microsoft 365 Migration Administrator
  '9f06204d-73c1-4d4c-880a-6edb90606fd8', // Microsoft Entra Joined Device Local Administrator
  '1501b917-7653-4ff9-a4b5-203eaf33784f', // Microsoft Hardware Warranty Administrator
  '281fe777-fb20-4fbb-b7a3-ccebce5b0d96', // Microsoft Hardware Warranty Specialist
  'd37c8bed-0711-4417-ba38-b4abe66ce4c2', // Network Administrator
  '2b745bdf-0803-4d80-aa65-822c4493daac', // Office Apps Administrator
  '92ed04bf-c94a-4b82-9729-b799a7a4c178', // Organizational Branding Administrator
  'e48398e2-f4bb-4074-8f31-4586725e205b', // Organizational Messages Approver
  '507f53e4-4e52-4077-abd3-d2e1558b6ea2', // Organizational Messages Writer
  '966707d0-3269-4727-9be2-8c3a10f19b9d', // Password Administrator
  'af78dc32-cf4d-46f9-ba4e-4428526346b5', // Permissions Management Administrator
  '11648597-926c-4cf3-9c36-bcebb0ba8dcc', // Power Platform Administrator
  '644ef478-e28f-4e28-b9dc-3fdde9aa0b1f', // Printer Administrator
  'e8cef6f1-e4bd-4ea8-bc07-4b8d950f4477', // Printer Technician
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13', // Privileged Authentication Administrator
  'e8611ab8-c189-46e8-94e1-60213ab1f814', // Privileged Role Administrator
  '4a5d8f65-41da-4de4-8968-e035b65339cf', // Reports Reader
  '0964bb5e-9bdb-4d7b-ac29-58e794862a40', // Search Administrator
  '8835291a-918c-4fd7-a9ce-faa49f0cf7d9', // Search Editor
  '194ae4cb-b126-40b2-bd5b-6091b380977d', // Security Administrator
  '5f2222b1-57c3-48ba-8ad5-d4759f1fde6f', // Security Operator
  '5d6b6bb7-de71-4623-b4af-96380a352509', // Security Reader
  'f023fd81-a637-4b56-95fd-791ac0226033', // Service Support Administrator
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c', // SharePoint Administrator
  '1a7d78b6-429f-476b-b8eb-35fb715fffd4', // SharePoint Embedded Administrator
  '75941009-915a-4869-abe7-691bff18279e', // Skype for Business Administrator
  '69091246-20e8-4a56-aa4d-066075b2a7a8', // Teams Administrator
  'baf37b3a-610e-45da-9e62-d9d1e5e8914b', // Teams Communications Administrator
  'f70938a0-fc10-4177-9e90-2178f8765737', // Teams Communications Support Engineer
  'fcf91098-03e3-41a9-b5ba-6f0ec8188a12', // Teams Communications Support Specialist
  '3d762c5a-1b6c-493f-843e-55a3b42923d4', // Teams Devices Administrator
  'aa38014f-0993-46e9-9b45-30501a20909d', // Teams Telephony Administrator
  '112ca1a2-15ad-4102-995e-45b0bc479a6a', // Tenant Creator
  '75934031-6c7e-415a-99d7-48dbd49e875e', // Usage Summary Reports Reader
  'fe930be7-5e62-47db-91af-98c3a49a38b1', // User Administrator
  '27460883-1df1-4691-b032-3b79643e5e63', // User Experience Success Manager
  'e300d9e7-4a2b-4295-9eff-f1c78b36cc98', // Virtual Visits Administrator
  '92b086b3-e367-4ef2-b869-1de128fb986e', // Viva Goals Administrator
  '87761b17-1ed2-4af3-9acd-92a150038160', // Viva Pulse Administrator
  '11451d60-acb2-45eb-a7d6-43d0f0125c13', // Windows 365 Administrator
  '32696413-001a-46ae-978c-ce0f6b3620d2', // Windows Update Deployment Administrator
  'c34f683f-4d5a-4403-affd-6615e00e3a7f', // Workplace Device Join
  '810a2642-a034-447f-a5e8-41beaa378541', // Yammer Administrator
];

/** CIPP's default GDAP role template (src/data/CIPPDefaultGDAPRoles.json, c6d3734). */
const cippDefaultTemplate = [
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', // Application Administrator
  '0526716b-113d-4c15-b2c8-68e3c22b9f80', // Authentication Policy Administrator
  'b0f54661-2d74-4c50-afa3-1ec803f12efe', // Billing Administrator
  '892c5842-a9a6-463a-8041-72aa08ca3cf6', // Cloud App Security Administrator
  '7698a772-787b-4ac8-901f-60d6b08affd2', // Cloud Device Administrator
  '8329153b-31d0-4727-b945-745eb3bc5f31', // Domain Name Administrator
  '29232cdf-9323-42fd-ade2-1d097af3e4de', // Exchange Administrator
  'f2ef992c-3afb-46b9-b7cf-a126ee74c451', // Global Reader
  '3a2c62db-5318-420d-8d74-23affee5d9d5', // Intune Administrator
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13', // Privileged Authentication Administrator
  'e8611ab8-c189-46e8-94e1-60213ab1f814', // Privileged Role Administrator
  '194ae4cb-b126-40b2-bd5b-6091b380977d', // Security Administrator
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c', // SharePoint Administrator
  '69091246-20e8-4a56-aa4d-066075b2a7a8', // Teams Administrator
  'fe930be7-5e62-47db-91af-98c3a49a38b1', // User Administrator
];

/** A role by the id SPEC §13 or the reference gives it, else by display name. */
const role = (name: string) => {
  const id = specRoles[name] ?? newerRoles[name];
  const found = id ? findRole(id) : builtInRoles().find((r) => r.displayName === name);
  if (!found) throw new Error(`${name} is missing from the catalog`);
  return found;
};

describe('role catalog (SPEC §13)', () => {
  const roles = builtInRoles();

  it('holds every built-in role template, each with a unique GUID, a name and a description', () => {
    expect(roles.length).toBeGreaterThanOrEqual(120);
    const ids = roles.map((r) => r.id.toLowerCase());
    expect(ids.every(isGuid)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(roles.map((r) => r.displayName.toLowerCase())).size).toBe(roles.length);
    for (const r of roles) {
      expect(r.id).toBe(r.id.toLowerCase());
      expect(r.displayName.trim()).not.toBe('');
      expect(r.description.trim()).not.toBe('');
    }
  });

  it.each(Object.entries(specRoles))('knows %s as %s', (name, id) => {
    expect(findRole(id)?.displayName).toBe(name);
    expect(findRole(id.toUpperCase())?.id).toBe(id);
  });

  it.each(withSupportTickets)('%s holds the support-ticket permission', (name) => {
    expect(role(name).permissions).toContain(supportTicketsPermission);
  });

  it.each(withoutSupportTickets)('%s does not hold the support-ticket permission', (name) => {
    expect(role(name).permissions).not.toContain(supportTicketsPermission);
  });

  it('marks the read-only roles read-only, and the administrators not', () => {
    for (const name of readOnlyRoles) expect({ name, readOnly: role(name).readOnly }).toEqual({ name, readOnly: true });
    for (const name of ['Global Administrator', 'Directory Writers', 'User Administrator', 'Partner Tier1 Support']) {
      expect({ name, readOnly: role(name).readOnly }).toEqual({ name, readOnly: false });
    }
  });

  it.each(Object.entries(newerRoles))('knows the newer %s as %s', (name, id) => {
    expect(findRole(id)?.displayName).toBe(name);
  });

  it("lists the reference's actions for every role, except the roles it documents without any", () => {
    expect(roles.filter((r) => r.permissions.length === 0).map((r) => r.displayName)).toEqual(
      [...rolesWithoutActions].sort(),
    );
    for (const r of roles) {
      expect(new Set(r.permissions).size).toBe(r.permissions.length);
      for (const action of r.permissions) expect(action).toMatch(/^microsoft\.[A-Za-z0-9.]+\/\S+$/);
    }
  });

  it('describes every role in plain text, without the markdown around it in the reference', () => {
    for (const r of roles) expect(r.description).not.toMatch(/<br|\]\(|\|/);
  });

  it('derives read-only and admin centers from the actions exactly as the updater does', () => {
    const serviceOrder = catalogData.services.map((service) => service.id);
    for (const r of roles) {
      const { id, displayName, description, ...facts } = r;
      expect({ displayName, description, ...deriveRole(id, r.permissions, serviceOrder) }).toEqual({
        displayName,
        description,
        ...facts,
      });
    }
  });

  it("matches the reference's actions for a few roles", () => {
    const helpdesk = role('Helpdesk Administrator');
    expect(helpdesk.readOnly).toBe(false);
    expect(helpdesk.permissions).toEqual(
      expect.arrayContaining([
        supportTicketsPermission,
        'microsoft.directory/users/password/update',
        'microsoft.directory/users/invalidateAllRefreshTokens',
      ]),
    );
    for (const name of ['Global Reader', 'Security Reader', 'Directory Readers', 'AI Reader', 'Teams Reader']) {
      const reader = role(name);
      expect({ name, readOnly: reader.readOnly, writes: reader.permissions.filter((a) => !isReadAction(a)) }).toEqual({
        name,
        readOnly: true,
        writes: [],
      });
    }
    expect(role('Global Reader').permissions).toContain('microsoft.directory/users/allProperties/read');
    // Read-only by SPEC §13, although the reference lets it reset passwords.
    expect(role('Partner Tier2 Support')).toMatchObject({ readOnly: true });
    expect(role('Partner Tier2 Support').permissions).toContain('microsoft.directory/users/password/update');
    // A reader by name that starts difference reports is not read-only.
    expect(role('Entra Backup Reader').readOnly).toBe(false);
    expect(role('Customer Delegated Admin Relationship Administrator').permissions).toEqual([
      customerDelegatedAdminPermission,
      'microsoft.office365.webPortal/allEntities/standard/read',
    ]);
  });

  it('grants the Azure support-ticket permission where the reference does, not for Microsoft 365 service requests alone', () => {
    const holds = (name: string) => rolesGrantPermission([role(name).id], supportTicketsPermission);
    expect(holds('Global Secure Access Administrator')).toBe(true);
    expect(holds('Teams External Collaboration Administrator')).toBe(true);
    expect(holds('Insights Administrator')).toBe(true);
    expect(holds('Printer Administrator')).toBe(false);
    expect(holds('Knowledge Administrator')).toBe(false);
    expect(role('Knowledge Administrator').permissions).toContain(
      'microsoft.office365.supportTickets/allEntities/allTasks',
    );
  });

  it('names the admin centers whose actions a role holds', () => {
    const services = (name: string) => role(name).services;
    expect(services('Global Administrator')).toEqual(catalogData.services.map((service) => service.id));
    expect(services('Exchange Administrator')).toEqual(['M365AdminCenter', 'Entra', 'Exchange']);
    expect(services('Intune Administrator')).toContain('Intune');
    expect(services('Teams Administrator')).toContain('Teams');
    expect(services('SharePoint Administrator')).toContain('SharePoint');
    expect(services('Security Administrator')).toContain('Security');
    expect(services('Power Platform Administrator')).toContain('PowerPlatform');
    expect(services('Directory Readers')).toEqual(['Entra']);
  });

  it('names admin centers the service knows for every role', () => {
    for (const r of roles) {
      expect(r.services.length).toBeGreaterThan(0);
      expect(servicesManagedBy([r.id]).map((service) => service.id)).toEqual(expect.arrayContaining([...r.services]));
    }
  });

  it('lets Global Administrator and Customer Delegated Admin Relationship Administrator manage relationships as the customer; only the first may take roles back', () => {
    const globalAdministrator = [specRoles['Global Administrator']];
    const relationshipAdministrator = [specRoles['Customer Delegated Admin Relationship Administrator']];
    expect(rolesGrantPermission(globalAdministrator, customerDelegatedAdminPermission)).toBe(true);
    expect(rolesGrantPermission(globalAdministrator, roleAssignmentsPermission)).toBe(true);
    expect(rolesGrantPermission(relationshipAdministrator, customerDelegatedAdminPermission)).toBe(true);
    expect(rolesGrantPermission(relationshipAdministrator, roleAssignmentsPermission)).toBe(false);
    // Privileged Role Administrator manages role assignments, but not the tenant's GDAP relationships.
    expect(rolesGrantPermission([specRoles['Privileged Role Administrator']], customerDelegatedAdminPermission)).toBe(
      false,
    );
  });
});

describe('roles a relationship may hold', () => {
  it.each(cippPickerRoles)('accepts %s, a role CIPP offers', (id) => {
    expect(isBuiltInRole(id)).toBe(true);
    expect(createWith([id]).roleIds).toEqual([id]);
  });

  it("accepts CIPP's default 15-role template in one relationship", () => {
    expect(cippDefaultTemplate).toHaveLength(15);
    expect(createWith(cippDefaultTemplate).roleIds).toEqual(cippDefaultTemplate);
  });

  it('refuses a custom role id with a reason', () => {
    const custom = '7f3b2c1d-0000-4000-8000-000000000001';
    expect(isBuiltInRole(custom)).toBe(false);
    expect(() => createWith([specRoles['Exchange Administrator'], custom])).toThrow(DomainError);
    expect(() => createWith([custom])).toThrow(/not a supported built-in Microsoft Entra role/);
  });
});
