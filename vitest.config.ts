import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The moto suite needs moto_server (Python): `npm run test:aws`, vitest.aws.config.ts.
    exclude: ['test/aws/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites start their own dynalite/s3rver/simulator on ephemeral ports,
    // so files can run in parallel; two cores here, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
    restoreMocks: true,
    unstubEnvs: true,
  },
});
