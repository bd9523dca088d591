/** How an offer reads on a terminal: pure functions, so they are tested without a terminal. */
import type { ChalkInstance } from 'chalk';

/** The fields of a `shift_offer` a card shows; extra fields such as `expires_at` are optional. */
export interface OfferLike {
  shift_id: number;
  date: string;
  start_time: string;
  end_time: string;
  location_name?: string | null | undefined;
  client_name?: string | null | undefined;
  service_type?: string | null | undefined;
  description?: string | null | undefined;
  expires_at?: string | null | undefined;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2026-01-20` reads `Tue 20 Jan 2026`; anything unparsable is shown as it came. */
export function formatDate(date: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return date;
  const d = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  if (Number.isNaN(d.getTime())) return date;
  return `${DAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

function minutesOf(time: string): number | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(time);
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** Length of a shift; one that ends at or before its start runs overnight. */
export function formatDuration(start: string, end: string): string | undefined {
  const from = minutesOf(start);
  const to = minutesOf(end);
  if (from === undefined || to === undefined) return undefined;
  const minutes = to > from ? to - from : to + 24 * 60 - from;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return [h ? `${h} h` : '', m ? `${m} min` : ''].filter(Boolean).join(' ');
}

/** `09:00-17:00 (8 h)`, or `22:00-07:00 (9 h, overnight)`. */
export function formatTimeRange(start: string, end: string): string {
  const duration = formatDuration(start, end);
  const overnight = (minutesOf(end) ?? 0) <= (minutesOf(start) ?? 0);
  if (!duration) return `${start}-${end}`;
  return `${start}-${end} (${duration}${overnight ? ', overnight' : ''})`;
}

/** `in 45 s (15:30:45)`, `in 14 min (15:45)`, `in 2 h 5 min (18:00)`, or `expired` once past. */
export function formatExpiry(expiresAt: string, now: number): string | undefined {
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return undefined;
  const left = at - now;
  if (left <= 0) return 'expired';
  // Under a minute, to the second: "in 1 min" would contradict the prompt's countdown.
  if (left < 60_000)
    return `in ${Math.ceil(left / 1000)} s (${new Date(at).toTimeString().slice(0, 8)})`;
  const minutes = Math.ceil(left / 60_000);
  const clock = new Date(at).toTimeString().slice(0, 5);
  const span =
    minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `in ${span} (${clock})`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it removes
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

/**
 * Text from a server as one plain line: control characters (a newline, a terminal escape)
 * become a space, so that no server can break the card or drive the terminal.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, ' ');
}

/** The offer as a boxed card of labelled lines. */
export function renderCard(offer: OfferLike, c: ChalkInstance, now = Date.now()): string {
  const rows: Array<[string, string | null | undefined]> = [
    ['When', `${formatDate(offer.date)}  ${formatTimeRange(offer.start_time, offer.end_time)}`],
    ['Where', offer.location_name],
    ['Client', offer.client_name],
    ['Service', offer.service_type],
    ['Details', offer.description],
  ];
  if (offer.expires_at) rows.push(['Expires', formatExpiry(offer.expires_at, now)]);
  const title = ` Shift ${offer.shift_id} `;
  const width = 42;
  const lines = [c.cyan(`┌─${c.bold(title)}${'─'.repeat(Math.max(4, width - 2 - title.length))}`)];
  for (const [label, value] of rows) {
    if (value) lines.push(`${c.cyan('│')} ${c.dim(label.padEnd(8))}${printable(value)}`);
  }
  lines.push(c.cyan(`└${'─'.repeat(width - 1)}`));
  return `${lines.join('\n')}\n`;
}
