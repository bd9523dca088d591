/**
 * Under `npx`, the process tree is npm, a shell, then shiftctl. `kill $!` after
 * `npx shiftctl serve &` signals npm only: npm passes the signal to the shell, which dies of it
 * without passing it on, and shiftctl ran on with no one to stop it (its port still taken, a
 * restart failing). So, when npm's `exec` started this process, it watches for the parent it
 * started under to go, and then stops as if signalled.
 */

/** How often the parent is looked at: a stop then takes up to this long to begin. */
const EVERY_MS = 1000;

/** Calls `gone` once, when the npx wrapper this process runs under is gone; nothing otherwise. */
export function whenNpxWrapperGone(gone: () => void, everyMs = EVERY_MS): void {
  if (process.env.npm_command !== 'exec') return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    gone();
  }, everyMs);
  timer.unref();
}
