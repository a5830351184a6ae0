import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'bench/**/*.test.mjs'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
