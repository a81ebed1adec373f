/**
 * float32 ↔ IEEE 754 half conversion (Node 20 has no Float16Array). Used to store fp16 weights
 * for the GPU experiments; round-to-nearest-even like numpy's astype(float16).
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Half bits of one float32 value, rounded to nearest even; overflow gives ±Infinity. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // underflow to ±0
    mant |= 0x800000; // implicit bit
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = mant >>> 13;
  const rest = mant & 0x1fff;
  let bits = (e << 10) | half;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) bits += 1; // may carry into the exponent: correct
  e = bits >>> 10;
  return sign | (e >= 0x1f ? 0x7c00 : bits);
}

/** float32 value of half bits. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Half bits of a whole float32 array. */
export function toFloat16Array(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]);
  return out;
}
