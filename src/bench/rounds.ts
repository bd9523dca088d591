/** Repeated measurements, for `npm run bench` and `npm run bench:store`. */

/** How many rounds `--rounds N` asks for (at least 1), or `fallback` without the flag. */
export function roundsFrom(argv: readonly string[], fallback: number): number {
  const at = argv.indexOf('--rounds');
  return at >= 0 ? Math.max(1, Number(argv[at + 1]) || 1) : fallback;
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[mid]
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
