/**
 * What the client says about an answer or a failure, in one line: a server's error body that is
 * not its JSON (a web server's HTML page) is summarised, never printed; a library's message
 * over several lines (OpenSSL's) is folded.
 */

/** `text` on one line: its line breaks and the blanks around them become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** The media type of a `Content-Type` header, without its parameters: `text/html`. */
export function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() || 'no content type';
}

/** A body is shown as it is only when it is short and on one line. */
const SHOWN_MAX = 200;

/**
 * What an error answer says: its JSON `message` (shiftctl) or `detail` (the seed's server);
 * otherwise a plain-text sentence that fits on a line; otherwise a summary of what came, which
 * asks whether the address is a shiftctl server.
 */
export function errorSaid(answer: {
  contentType: string | null | undefined;
  text: string;
  json: unknown;
}): string {
  const error = answer.json as { message?: unknown; detail?: unknown } | undefined;
  if (typeof error?.message === 'string') return oneLine(error.message);
  if (typeof error?.detail === 'string') return oneLine(error.detail);
  const text = answer.text.trim();
  if (text === '') return 'the answer has no body: is --url a shiftctl server?';
  const type = mediaType(answer.contentType);
  if (type === 'text/plain' && text.length <= SHOWN_MAX && !/[\r\n]/.test(text)) return text;
  const what = answer.json === undefined ? "shiftctl's JSON" : "shiftctl's error JSON";
  return `the answer is not ${what} (${type}): is --url a shiftctl server?`;
}

/** Why a 200 answer's body cannot be read as JSON, when it cannot. */
export function notJson(answer: {
  contentType: string | null | undefined;
  text: string;
  json: unknown;
}): string | undefined {
  if (answer.json !== undefined) return undefined;
  if (answer.text.trim() === '') return 'the answer is empty';
  return `the answer is not JSON (${mediaType(answer.contentType)}): is --url a shiftctl server?`;
}
