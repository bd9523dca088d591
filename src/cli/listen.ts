import type { Command } from 'commander';

export function registerListen(_program: Command): void {
  // TODO
}
