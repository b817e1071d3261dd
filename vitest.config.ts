import { defineConfig } from 'vitest/config';

// Tests run on source: the `@tandem/source` export condition maps every workspace package to
// its src/ (the same condition the typecheck uses), so no build is needed before `vitest`.
export default defineConfig({
  resolve: { conditions: ['@tandem/source'] },
  ssr: { resolve: { conditions: ['@tandem/source'], externalConditions: ['@tandem/source'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'conformance/src/**/*.test.ts',
      'conformance/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
