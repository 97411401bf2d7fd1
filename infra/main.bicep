// The GDAP service on Azure Functions Flex Consumption, in the shape of Microsoft's
// functions-quickstart-typescript-azd template: a user-assigned identity reaches storage (Blob,
// Queue, Table; no shared keys) and Application Insights (Entra auth). `azd up` deploys it.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; it seeds the unique names of every resource.')
param environmentName string

@minLength(1)
@description('Region of every resource; one where Flex Consumption is offered.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the person running azd, given data roles for local debugging against the account. Empty: none.')
param principalId string = ''
@allowed(['User', 'ServicePrincipal'])
param principalType string = 'User'

// The service's settings (README "Configuration"); azd fills them from `azd env set NAME value`.
@description('Expected `iss` of bearer tokens, e.g. https://login.microsoftonline.com/{tenant}/v2.0.')
param authIssuer string
@description('Expected `aud` of bearer tokens: the application ID URI or client id of the API app registration.')
param authAudience string
@description('JWKS URL of the token issuer, e.g. https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys.')
param authJwksUri string
@description('The tenant whose ServiceOperator app role is honoured. Empty: never.')
param operatorTenantId string = ''
@description('The tenant whose SupportEngineer app role is honoured. Empty: never.')
param supportTenantId string = ''
@description('Public base URL of the API (Location headers, @odata links, webhooks). Empty: each request\'s own origin.')
param publicBaseUrl string = ''
@description('Customer invitation link; {id} is the relationship id. Empty: the Microsoft 365 admin center.')
param invitationUrlTemplate string = ''
@description('Client id of the portal\'s app registration (MSAL sign-in at /portal/).')
param portalClientId string = ''
@description('Authority of the portal\'s sign-in, e.g. https://login.microsoftonline.com/organizations.')
param portalAuthority string = ''
@description('Wait before the first webhook retry, in seconds (doubles each retry).')
param webhookRetrySeconds string = '30'
@description('Longest wait between webhook retries, in seconds.')
param webhookRetryMaxSeconds string = '3600'
@description('How long a webhook attempt waits for the receiver\'s answer, in seconds.')
param webhookTimeoutSeconds string = '10'
// Both or neither; empty: a key and certificate are generated once and stored in the Settings table.
@secure()
@description('The webhook signing key, PEM, or a Key Vault reference (@Microsoft.KeyVault(SecretUri=...)). Empty: generated.')
param webhookSigningKey string = ''
@description('The webhook signing key\'s X.509 certificate, PEM (receivers download it). Empty: generated with the key.')
param webhookSigningCertificate string = ''
@description('Most instances the app scales out to.')
param maximumInstanceCount int = 100

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'apiUserAssignedIdentity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module appServicePlan 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'appserviceplan'
  scope: rg
  params: {
    name: '${abbrs.webServerFarms}${resourceToken}'
    sku: { name: 'FC1', tier: 'FlexConsumption' }
    reserved: true
    location: location
    tags: tags
  }
}

// Tables hold the service's data, queues carry bulk jobs and webhook deliveries, blobs the
// deployment package and the runtime's timer locks. Only Entra identities get in.
module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
    blobServices: { containers: [{ name: deploymentStorageContainerName }] }
    minimumTlsVersion: 'TLS1_2'
    location: location
    tags: tags
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.11.1' = {
  name: '${uniqueString(deployment().name, location)}-loganalytics'
  scope: rg
  params: {
    name: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    location: location
    tags: tags
    dataRetention: 30
  }
}

module monitoring 'br/public:avm/res/insights/component:0.6.0' = {
  name: '${uniqueString(deployment().name, location)}-appinsights'
  scope: rg
  params: {
    name: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbacAssignments'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.name
    managedIdentityPrincipalId: identity.outputs.principalId
    userIdentityPrincipalId: principalId
    userIdentityPrincipalType: principalType
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.name
    appServicePlanId: appServicePlan.outputs.resourceId
    storageAccountName: storage.outputs.name
    deploymentStorageContainerName: deploymentStorageContainerName
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    maximumInstanceCount: maximumInstanceCount
    // One host id per deployment, so two apps sharing an account never share timer locks.
    hostId: take('gdap-${resourceToken}', 32)
    appSettings: {
      SANDBOX_MODE: 'false'
      AUTH_ISSUER: authIssuer
      AUTH_AUDIENCE: authAudience
      AUTH_JWKS_URI: authJwksUri
      OPERATOR_TENANT_ID: operatorTenantId
      SUPPORT_TENANT_ID: supportTenantId
      PUBLIC_BASE_URL: publicBaseUrl
      INVITATION_URL_TEMPLATE: invitationUrlTemplate
      PORTAL_CLIENT_ID: portalClientId
      PORTAL_AUTHORITY: portalAuthority
      WEBHOOK_RETRY_SECONDS: webhookRetrySeconds
      WEBHOOK_RETRY_MAX_SECONDS: webhookRetryMaxSeconds
      WEBHOOK_TIMEOUT_SECONDS: webhookTimeoutSeconds
      WEBHOOK_SIGNING_KEY: webhookSigningKey
      WEBHOOK_SIGNING_CERTIFICATE: webhookSigningCertificate
    }
  }
}

output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_NAME string = api.outputs.SERVICE_API_NAME
output SERVICE_API_NAME string = api.outputs.SERVICE_API_NAME
output SERVICE_API_URI string = api.outputs.SERVICE_API_URI
