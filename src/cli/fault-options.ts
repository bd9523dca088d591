/** The fault options `serve` starts with and `fault` switches at run time. */
import type { Command } from 'commander';
import { durationMs, fraction } from './parse.js';

export interface FaultFlags {
  latency?: number;
  httpLatency?: number;
  dropRate?: number;
}

/** Adds --latency, --http-latency and --drop-rate; `prefix` starts each description. */
export function withFaultOptions(command: Command, prefix = ''): Command {
  return command
    .option('--latency <duration>', `${prefix}delay every push, e.g. 200ms`, durationMs(60_000))
    .option(
      '--http-latency <duration>',
      `${prefix}delay HTTP answers (not the admin API)`,
      durationMs(60_000),
    )
    .option('--drop-rate <fraction>', `${prefix}lose this fraction of pushes, e.g. 0.1`, fraction);
}

/** The flags as the fault settings of the admin API; flags not given stay undefined. */
export function faultSettings(flags: FaultFlags) {
  return {
    push_latency_ms: flags.latency,
    http_latency_ms: flags.httpLatency,
    drop_rate: flags.dropRate,
  };
}
