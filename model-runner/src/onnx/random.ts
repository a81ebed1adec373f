/**
 * Seeded pseudo-random numbers for weight initialisation and sampling.
 *
 * Determinism matters more than statistical finesse here: the offline backbone is identified by
 * its bytes' hash, so the same seed must give the same weights on every run of this code.
 * SplitMix32-style mixing (Mulberry32) for uniforms and Box–Muller for normals; both use only
 * integer ops plus Math.log/sqrt/cos, which V8 computes identically across runs on one build.
 */

/** A seeded generator of uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent seed for a named stream (e.g. one per weight tensor) from a base seed. */
export function deriveSeed(seed: number, name: string): number {
  // FNV-1a over the name, mixed with the seed, then one avalanche round.
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/** Fills `out` with N(0, std²) samples (Box–Muller, both outputs used). */
export function fillNormal(out: Float32Array, std: number, random: () => number): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - random(); // (0, 1]: log(0) avoided
    const u2 = random();
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** Fills `out` with U(lo, hi) samples. */
export function fillUniform(out: Float32Array, lo: number, hi: number, random: () => number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * random();
  return out;
}
