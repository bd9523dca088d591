/**
 * Faults on demand, to test an app's recovery paths the way Toxiproxy does: dropped and delayed
 * pushes, slow HTTP answers, refused connections. All off by default; switched at start
 * (`serve --latency --drop-rate`) or at run time (`POST /api/admin/faults`).
 */
import type { SharedFaults } from '../cluster/types.js';
import type { FaultSettings } from '../protocol/schemas.js';

export interface Faults {
  readonly pushLatencyMs: number;
  readonly httpLatencyMs: number;
  readonly dropRate: number;
  /** Whether this push is lost (drawn with the drop rate). */
  shouldDrop(): boolean;
  /** Whether new WebSocket connections are refused now. */
  refusing(now: number): boolean;
  /** Applies the given settings, leaving the others as they are. */
  update(settings: Partial<FaultSettingsInput>, now: number): void;
  view(now: number): FaultSettings;
  /** The settings as absolute values, for the other instances. */
  shared(): SharedFaults;
  /** Takes settings another instance made (without telling the listener). */
  apply(settings: SharedFaults): void;
  /** Called after every `update`, with the settings now in force. */
  onChange?: ((settings: SharedFaults) => void) | undefined;
}

export interface FaultSettingsInput {
  push_latency_ms: number;
  http_latency_ms: number;
  drop_rate: number;
  /** Refuse new connections for this many seconds from now; 0 stops refusing. */
  refuse_connections_seconds: number;
}

export function createFaults(
  initial: Partial<FaultSettingsInput> = {},
  random: () => number = Math.random,
  now = Date.now(),
): Faults {
  let pushLatencyMs = 0;
  let httpLatencyMs = 0;
  let dropRate = 0;
  let refuseUntil = 0;
  const faults: Faults = {
    get pushLatencyMs() {
      return pushLatencyMs;
    },
    get httpLatencyMs() {
      return httpLatencyMs;
    },
    get dropRate() {
      return dropRate;
    },
    shouldDrop: () => dropRate > 0 && random() < dropRate,
    refusing: (at) => at < refuseUntil,
    update(settings, at) {
      // Fields left out (or undefined) keep their value.
      if (settings.push_latency_ms !== undefined) pushLatencyMs = settings.push_latency_ms;
      if (settings.http_latency_ms !== undefined) httpLatencyMs = settings.http_latency_ms;
      if (settings.drop_rate !== undefined) dropRate = settings.drop_rate;
      if (settings.refuse_connections_seconds !== undefined) {
        refuseUntil = at + settings.refuse_connections_seconds * 1000;
      }
      faults.onChange?.(faults.shared());
    },
    shared: () => ({
      push_latency_ms: pushLatencyMs,
      http_latency_ms: httpLatencyMs,
      drop_rate: dropRate,
      refuse_until: refuseUntil,
    }),
    apply(settings) {
      pushLatencyMs = settings.push_latency_ms;
      httpLatencyMs = settings.http_latency_ms;
      dropRate = settings.drop_rate;
      refuseUntil = settings.refuse_until;
    },
    view(at) {
      return {
        push_latency_ms: pushLatencyMs,
        http_latency_ms: httpLatencyMs,
        drop_rate: dropRate,
        refusing_connections_until: at < refuseUntil ? new Date(refuseUntil).toISOString() : null,
      };
    },
  };
  faults.update(initial, now);
  return faults;
}
