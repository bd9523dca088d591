import type { Command } from 'commander';

export function registerPending(_program: Command): void {
  // TODO
}
