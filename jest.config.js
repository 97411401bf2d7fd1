/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // tsconfig's isolatedModules makes ts-jest transpile only: type-checking is `npm run typecheck`'s job.
    '^.+\\.ts$': 'ts-jest',
  },
  // One in-memory Azurite for the whole run; each test file gets tables of its own (setupEnv.ts).
  setupFiles: ['<rootDir>/test/setupEnv.ts'],
  globalSetup: '<rootDir>/test/globalSetup.ts',
  globalTeardown: '<rootDir>/test/globalTeardown.ts',
  testTimeout: 30000,
};
