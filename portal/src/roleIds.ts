/** Built-in Entra role template ids the pages need to recognise (SPEC §13). */
export const roleIds = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  serviceSupportAdministrator: 'f023fd81-a637-4b56-95fd-791ac0226033',
  delegatedAdminRelationshipAdministrator: 'fc8ad4e2-40e4-4724-8317-bcda7503ecbf',
} as const;
