/**
 * Three projects: `unit` needs nothing; `integration` gets a real Temporal dev server, MinIO and a
 * fresh PostgreSQL database from tests/support/globalSetup.ts (only when one of its tests runs);
 * `accuracy` checks detectors against PyOD's published ROC-AUC on the ODDS datasets in
 * tests/accuracy/data (CPU only, a few minutes: `npx jest tests/accuracy --selectProjects accuracy`).
 */
const transform = {
  '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: { module: 'commonjs', target: 'ES2022', esModuleInterop: true, resolveJsonModule: true } }],
  // hyparquet (the Parquet reader) ships ES modules only: compile them to CommonJS for jest.
  '/node_modules/hyparquet[^/]*/.+\\.js$': ['ts-jest', { isolatedModules: true, tsconfig: { module: 'commonjs', target: 'ES2022', allowJs: true } }],
};
const transformIgnorePatterns = ['/node_modules/(?!hyparquet)'];

module.exports = {
  testTimeout: 180000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/tests/unit', '<rootDir>/tests/replay'],
      testMatch: ['**/*.test.ts'],
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/tests/integration'],
      testMatch: ['**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      globalSetup: '<rootDir>/tests/support/globalSetup.ts',
      globalTeardown: '<rootDir>/tests/support/globalTeardown.ts',
    },
    {
      // The production topology (tests/production): brings up its own Temporal server on
      // PostgreSQL with scripts/prod-stack-up.sh and runs the workers as OS processes.
      displayName: 'production',
      testEnvironment: 'node',
      roots: ['<rootDir>/tests/production'],
      testMatch: ['**/*.test.ts'],
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'accuracy',
      testEnvironment: 'node',
      roots: ['<rootDir>/tests/accuracy'],
      testMatch: ['**/*.test.ts'],
      transform,
      transformIgnorePatterns,
    },
  ],
};
