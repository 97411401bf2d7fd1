// Data-plane roles of the app's identity (and, optionally, of whoever runs azd): storage
// without shared keys, and Application Insights ingestion with Entra auth.
param storageAccountName string
param appInsightsName string
param managedIdentityPrincipalId string
@description('The person running azd, for local debugging against the account. Empty: none.')
param userIdentityPrincipalId string = ''
@allowed(['User', 'ServicePrincipal'])
param userIdentityPrincipalType string = 'User'

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // the deployment package, the runtime's locks
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // queue triggers, bulk jobs, webhooks
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // the service's data
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Application Insights ingestion
}
var storageRoles = [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]
var principals = concat(
  [{ id: managedIdentityPrincipalId, type: 'ServicePrincipal' }],
  empty(userIdentityPrincipalId) ? [] : [{ id: userIdentityPrincipalId, type: userIdentityPrincipalType }]
)
var storageAssignments = concat(
  map(storageRoles, role => { principalId: managedIdentityPrincipalId, principalType: 'ServicePrincipal', role: role }),
  empty(userIdentityPrincipalId)
    ? []
    : map(storageRoles, role => { principalId: userIdentityPrincipalId, principalType: userIdentityPrincipalType, role: role })
)

resource storageAccount 'Microsoft.Storage/storageAccounts@2022-09-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in storageAssignments: {
    name: guid(storageAccount.id, assignment.principalId, assignment.role)
    scope: storageAccount
    properties: {
      roleDefinitionId: resourceId('Microsoft.Authorization/roleDefinitions', assignment.role)
      principalId: assignment.principalId
      principalType: assignment.principalType
    }
  }
]

resource monitoringRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in principals: {
    name: guid(applicationInsights.id, principal.id, roles.monitoringMetricsPublisher)
    scope: applicationInsights
    properties: {
      roleDefinitionId: resourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
      principalId: principal.id
      principalType: principal.type
    }
  }
]
