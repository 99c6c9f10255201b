/** `--name value` from a benchmark's command line, as a number, or the fallback. */
export function argValue(name: string, fallback: number, args: readonly string[] = process.argv.slice(2)): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

/** `--name value` as text, or the fallback; `allowed` turns a typo into an error naming the flag. */
export function argText<T extends string>(name: string, fallback: T, allowed: readonly T[], args: readonly string[] = process.argv.slice(2)): T {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = args[i + 1] as T;
  if (!allowed.includes(value)) throw new Error(`${name}: must be one of ${allowed.join(', ')}, got "${value ?? ''}"`);
  return value;
}

/** `--name` present on the command line. */
export function argFlag(name: string, args: readonly string[] = process.argv.slice(2)): boolean {
  return args.includes(name);
}

/** The p-th percentile (nearest rank) of the values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export const median = (values: readonly number[]): number => percentile(values, 50);
