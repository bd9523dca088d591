import type { Command } from 'commander';

export function registerRespond(_program: Command): void {
  // TODO
}
