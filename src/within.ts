/**
 * Settles as `promise` does, or rejects with `timedOut()` once `ms` have passed, whichever comes
 * first; its timer never outlives it (nor holds the process open).
 */
export function within<T>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
