/**
 * A seeded pseudo-random generator (sfc32, seeded through splitmix32) and the
 * distributions the model draws from. The same seed gives the same traffic, so
 * a scenario run and its tests are reproducible.
 */

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(min: number, max: number): number;
  /** Integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  exponential(mean: number): number;
  normal(mean?: number, sd?: number): number;
  /** Log-normal given its median (e^mu) and the sigma of the underlying normal. */
  logNormal(median: number, sigma: number): number;
  poisson(lambda: number): number;
  pick<T>(items: readonly T[]): T;
  /** One key, drawn with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K;
  /** An independent stream, derived from this seed and a label. */
  fork(label: string): Random;
}

/** FNV-1a over a string: stable labels for forked streams and ids. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRandom(seed: number | string): Random {
  const seedNumber = typeof seed === 'number' ? (Math.floor(seed) >>> 0) ^ Math.floor(seed / 2 ** 32) : hashString(seed);
  const init = splitmix32(seedNumber);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const next = (): number => {
    // sfc32: small, fast, and passes PractRand well beyond what a simulation draws.
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  // Warm up so that nearby seeds do not start with correlated outputs.
  for (let i = 0; i < 12; i++) next();

  let spareNormal: number | undefined;
  const normal = (mean = 0, sd = 1): number => {
    if (spareNormal !== undefined) {
      const z = spareNormal;
      spareNormal = undefined;
      return mean + sd * z;
    }
    let u = 0;
    while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  };

  const random: Random = {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    exponential: (mean) => -mean * Math.log(1 - next()),
    normal,
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
    poisson(lambda) {
      if (!(lambda > 0)) return 0;
      if (lambda < 30) {
        // Knuth's product method: exact and cheap for the small rates of one time slot.
        const limit = Math.exp(-lambda);
        let k = 0;
        let p = next();
        while (p > limit) {
          k++;
          p *= next();
        }
        return k;
      }
      return Math.max(0, Math.round(normal(lambda, Math.sqrt(lambda))));
    },
    pick: (items) => {
      if (items.length === 0) throw new Error('random.pick: empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
      const keys = Object.keys(weights) as K[];
      let total = 0;
      for (const k of keys) total += weights[k];
      let x = next() * total;
      for (const k of keys) {
        x -= weights[k];
        if (x < 0) return k;
      }
      return keys[keys.length - 1] as K;
    },
    fork: (label) => createRandom(hashString(label, seedNumber ^ 0x5bd1e995)),
  };
  return random;
}
