/**
 * Seeded randomness for the synthetic data set. Math.random is never used: every number derives from the user's
 * seed through {@link streamSeed}, which hashes a path such as (seed, "image", 17, "anomaly", 2). Each image and
 * each anomaly gets its own independent stream, so images can be rendered in any order, on any worker, and one
 * image's content never depends on how many random numbers another one consumed.
 */

/** 32-bit mixing (the finaliser of MurmurHash3), used to hash seed paths. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed derived from a path of numbers and strings. Different paths give unrelated seeds. */
export function streamSeed(...path: (number | string)[]): number {
  let h = 0x9e3779b9;
  for (const part of path) {
    if (typeof part === 'number') {
      h = mix32(h ^ mix32((part | 0) + 0x632be5ab));
      h = mix32(h ^ mix32(Math.floor(part / 4294967296) + 0x1b873593));
    } else {
      for (let i = 0; i < part.length; i++) h = mix32(h ^ Math.imul(part.charCodeAt(i) + 1, 0xcc9e2d51));
      h = mix32(h ^ 0x27d4eb2f);
    }
  }
  return h;
}

/**
 * SFC32 (Chris Doty-Humphrey's Small Fast Counting generator): 128 bits of state, passes PractRand, and only
 * 32-bit integer operations, so it is exact and identical on every JavaScript engine.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A generator for the sub-stream at `path` below `seed`. */
  static at(...path: (number | string)[]): Rng {
    return new Rng(streamSeed(...path));
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer uniform in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box–Muller; one value per call, the cosine branch). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]: log(0) avoided
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** One of the items, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** An index drawn with probability proportional to `weights[i]`. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((s, w) => s + w, 0);
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}
