/**
 * Employees' push tokens (`/api/devices/{emp_id}`), which the push fallback sends to when an
 * offer finds no connected device (docs/push.md).
 */
import type { DevicePlatform, DeviceView } from '../protocol/schemas.js';
import type { DeviceRecord } from '../store/types.js';
import type { OfferServiceDeps } from './service.js';
import { isoTime } from './views.js';

/**
 * Push tokens kept per employee: a phone gets a new token when the app is reinstalled, and old
 * ones are never unregistered; beyond this, the least recently registered go.
 */
export const MAX_DEVICES_PER_EMPLOYEE = 10;

function toDeviceView(d: DeviceRecord): DeviceView {
  return {
    emp_id: d.empId,
    token: d.token,
    platform: d.platform,
    registered_at: isoTime(d.registeredAt),
    seen_at: isoTime(d.seenAt),
  };
}

export function createDevices(deps: Pick<OfferServiceDeps, 'store' | 'clock' | 'pushFallback'>) {
  const { store, clock, pushFallback } = deps;
  return {
    async registerDevice(empId: number, token: string, platform: DevicePlatform) {
      const { device, created } = await store.registerDevice(
        { empId, token, platform },
        clock.now(),
        MAX_DEVICES_PER_EMPLOYEE,
      );
      // Offers that waited for a device before this token existed are pushed to it too.
      await pushFallback?.tokenRegistered(empId, token);
      return { ...toDeviceView(device), created };
    },

    async devices(empId: number): Promise<DeviceView[]> {
      return (await store.listDevices(empId)).map(toDeviceView);
    },

    async deleteDevice(empId: number, token: string) {
      return { emp_id: empId, token, deleted: await store.deleteDevice(empId, token) };
    },
  };
}
