/**
 * The body a push webhook gets: shaped like a Firebase Cloud Messaging HTTP v1 send request
 * (`{"message": {...}}`), so that a relay forwards it to FCM as it is (docs/push.md).
 */
import { formatDate, formatTimeRange } from '../client/card.js';
import type { DevicePlatform, ShiftOfferMessage } from '../protocol/schemas.js';

/** FCM's `Message`, with the fields shiftctl fills in. */
export interface PushMessage {
  message: {
    token: string;
    notification: { title: string; body: string };
    /**
     * The `shift_offer` message's fields and `emp_id`, each as a string (FCM data values are
     * strings).
     */
    data: Record<string, string>;
    android?: { priority: 'high'; collapse_key: string; ttl?: string };
    apns?: {
      headers: Record<string, string>;
      payload: { aps: { sound: string; 'thread-id': string } };
    };
  };
}

/** What the phone is asked to show: which shift, when and where. */
export function notificationOf(offer: ShiftOfferMessage): { title: string; body: string } {
  const what = offer.service_type ? `${offer.service_type} shift` : 'Shift';
  const where = offer.location_name ? ` at ${offer.location_name}` : '';
  return {
    title: `New shift offer: ${what} ${offer.shift_id}`,
    body: `${formatDate(offer.date)}, ${formatTimeRange(offer.start_time, offer.end_time)}${where}`,
  };
}

/**
 * The webhook body for one push token: the notification, the offer as string data, and for
 * each platform the block that makes a retried push replace the earlier one on the phone
 * (collapse key, `apns-collapse-id`) and lets it lapse with the offer's deadline.
 */
export function toPushMessage(
  offer: ShiftOfferMessage,
  empId: number,
  token: string,
  platform: DevicePlatform,
  now: number,
): PushMessage {
  // The employee too: a relay serving several may route by it; the app ignores it.
  const data: Record<string, string> = { emp_id: String(empId) };
  for (const [key, value] of Object.entries(offer)) {
    if (value !== undefined && value !== null) data[key] = String(value);
  }
  const collapse = `shift_${offer.shift_id}`;
  const expiresAt = offer.expires_at ? Date.parse(offer.expires_at) : undefined;
  const message: PushMessage['message'] = {
    token,
    notification: notificationOf(offer),
    data,
  };
  if (platform === 'android') {
    message.android = { priority: 'high', collapse_key: collapse };
    if (expiresAt !== undefined) {
      message.android.ttl = `${Math.max(0, Math.ceil((expiresAt - now) / 1000))}s`;
    }
  } else {
    const headers: Record<string, string> = {
      'apns-priority': '10',
      'apns-push-type': 'alert',
      'apns-collapse-id': collapse,
    };
    if (expiresAt !== undefined) headers['apns-expiration'] = String(Math.ceil(expiresAt / 1000));
    message.apns = { headers, payload: { aps: { sound: 'default', 'thread-id': collapse } } };
  }
  return { message };
}
