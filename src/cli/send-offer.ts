import type { Command } from 'commander';

export function registerSendOffer(_program: Command): void {
  // TODO
}
