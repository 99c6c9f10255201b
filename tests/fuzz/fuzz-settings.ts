/**
 * One seed and run budget for every fuzz property, so `npm test` is quick and
 * repeatable. To fuzz harder or afresh:
 *   SQM_FUZZ_RUNS=2000 SQM_FUZZ_SEED=12345 npx vitest run tests/fuzz
 * SQM_FUZZ_RUNS multiplies nothing: it replaces each property's own count.
 * A failing property prints its seed and path; put them here to replay it.
 */
export const FUZZ_SEED = Number(process.env.SQM_FUZZ_SEED ?? 20261130);

/** The property's own run count, unless SQM_FUZZ_RUNS asks for another. */
export function fuzzRuns(ownCount: number): number {
  const asked = Number(process.env.SQM_FUZZ_RUNS);
  return Number.isInteger(asked) && asked > 0 ? asked : ownCount;
}
