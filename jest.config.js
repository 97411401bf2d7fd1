/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // tsconfig's isolatedModules makes ts-jest transpile only: type-checking is `npm run typecheck`'s job.
    '^.+\\.ts$': 'ts-jest',
    // The Kiota Graph SDK ships ES modules only and jest runs CommonJS, so ts-jest transpiles those
    // packages' files too (once: jest caches the result).
    '^.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@microsoft/(kiota-|msgraph-sdk))'],
  // One in-memory Azurite for the whole run; each test file gets tables of its own (setupEnv.ts).
  setupFiles: ['<rootDir>/test/setupEnv.ts'],
  globalSetup: '<rootDir>/test/globalSetup.ts',
  globalTeardown: '<rootDir>/test/globalTeardown.ts',
  testTimeout: 30000,
};
