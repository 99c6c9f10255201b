/** `--name value` from a benchmark's command line, as a number, or the fallback. */
export function argValue(name: string, fallback: number, args: readonly string[] = process.argv.slice(2)): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}
