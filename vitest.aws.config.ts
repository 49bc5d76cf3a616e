import { defineConfig } from 'vitest/config';

// `npm run test:aws`: the packaged stack and handlers on moto_server (Python). Kept out of
// `npm test`, which must run where moto is not installed.
export default defineConfig({
  test: {
    include: ['test/aws/**/*.test.ts'],
    globalSetup: ['test/aws/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One moto and one stack for the whole run: files take turns on it.
    fileParallelism: false,
    restoreMocks: true,
  },
});
