import type { Command } from 'commander';

export function registerHistory(_program: Command): void {
  // TODO
}
