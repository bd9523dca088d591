import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Bounds for a busy 2-core machine (see WAIT_MS in test/cli-harness.ts), not durations.
    testTimeout: 45_000,
    hookTimeout: 45_000,
    // Most files wait on sockets, timers and child processes far more than they compute:
    // vitest's default (one worker fewer than the cores, so a single one on two cores) would run
    // them one after another.
    maxWorkers: Math.max(4, availableParallelism() - 1),
  },
});
