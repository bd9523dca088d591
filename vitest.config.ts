import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Most files wait on sockets, timers and child processes far more than they compute:
    // vitest's default (one worker fewer than the cores, so a single one on two cores) would run
    // them one after another.
    maxWorkers: Math.max(4, availableParallelism() - 1),
  },
});
