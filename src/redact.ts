/** A URL with its password replaced by `***`, for banners, logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    // Not a URL the parser takes: hide whatever sits between `user:` and `@`.
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}
