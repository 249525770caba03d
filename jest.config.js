/**
 * Nest 12 ships ES modules only, so the suite runs in Jest's native ESM mode
 * (`node --experimental-vm-modules`, see package.json). Unit specs live beside the code
 * (src/**), e2e specs in test/. One `npm test` runs both.
 */
export default {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  testRegex: '(src/.*\\.spec|test/.*\\.e2e-spec)\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testEnvironment: 'node',
  testTimeout: 60000,
};
