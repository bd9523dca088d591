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
  /** `urgent` for an urgent shift; absent (or `normal`) otherwise. */
  priority?: string | null | undefined;
}

/** Whether the offer is for an urgent shift. */
export const isUrgent = (offer: Pick<OfferLike, 'priority'>): boolean =>
  offer.priority === 'urgent';

/** The card's mark of an urgent shift: words first, so that it reads without colour too. */
export const URGENT_BADGE = ' URGENT ';

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

/** `4:59`, `1:02:03`: the time left, to the second (the prompt's countdown, and the card's). */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * `in 1:30, at 15:31:30` (the same count as the prompt's), `in 2 h 5 min, at 18:00` for an
 * hour or more, or `expired` once past.
 */
export function formatExpiry(expiresAt: string, now: number): string | undefined {
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return undefined;
  const left = at - now;
  if (left <= 0) return 'expired';
  const time = new Date(at).toTimeString();
  if (left < 3_600_000) return `in ${formatCountdown(left)}, at ${time.slice(0, 8)}`;
  const minutes = Math.ceil(left / 60_000);
  return `in ${Math.floor(minutes / 60)} h ${minutes % 60} min, at ${time.slice(0, 5)}`;
}

/** Words in lines of at most `width` characters; a longer word is cut. */
export function wrapText(text: string, width: number): string[] {
  if (text.length <= width) return [text]; // as it is, its spacing kept
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(' ').filter((w) => w !== '')) {
    while (word.length > width) {
      if (line) lines.push(line);
      line = '';
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/** The card's width for a terminal of `columns` (unknown: a pipe): fits it, 32 to 80. */
export function cardWidth(columns: number | undefined): number {
  return Math.max(32, Math.min(columns ?? 60, 80));
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

/**
 * The offer as a boxed card of labelled lines, `columns` wide at most (the terminal's width;
 * see `cardWidth`): long values wrap inside the box, under their label. An urgent shift's card
 * has an URGENT badge in its top line (white on red, with colour) and a red box.
 */
export function renderCard(
  offer: OfferLike,
  c: ChalkInstance,
  now = Date.now(),
  columns?: number,
): string {
  const rows: Array<[string, string | null | undefined]> = [
    ['When', `${formatDate(offer.date)}  ${formatTimeRange(offer.start_time, offer.end_time)}`],
    ['Where', offer.location_name],
    ['Client', offer.client_name],
    ['Service', offer.service_type],
    ['Details', offer.description],
  ];
  if (offer.expires_at) rows.push(['Expires', formatExpiry(offer.expires_at, now)]);
  const urgent = isUrgent(offer);
  const box = urgent ? c.red : c.cyan;
  const title = ` Shift ${offer.shift_id} `;
  const width = cardWidth(columns);
  // "┌─", the title, and for an urgent shift "─", the badge and "─" before the rule.
  const used = 2 + title.length + (urgent ? URGENT_BADGE.length + 2 : 0);
  const badge = urgent ? `${box('─')}${c.bgRed.white.bold(URGENT_BADGE)}${box('─')}` : '';
  const lines = [
    `${box(`┌─${c.bold(title)}`)}${badge}${box('─'.repeat(Math.max(4, width - used)))}`,
  ];
  // "│ " and the label's 8 columns come before each value.
  const valueWidth = width - 10;
  for (const [label, value] of rows) {
    if (!value) continue;
    wrapText(printable(value), valueWidth).forEach((part, i) => {
      lines.push(`${box('│')} ${c.dim((i === 0 ? label : '').padEnd(8))}${part}`);
    });
  }
  lines.push(box(`└${'─'.repeat(width - 1)}`));
  return `${lines.join('\n')}\n`;
}
