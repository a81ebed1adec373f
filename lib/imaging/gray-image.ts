/** A decoded single-channel grayscale image, row-major, `data[y * width + x]`. Higher values are brighter. */
export type GrayImage =
  | { width: number; height: number; bitDepth: 8; data: Uint8Array }
  | { width: number; height: number; bitDepth: 16; data: Uint16Array };

export type BitDepth = GrayImage['bitDepth'];

/** Largest representable value of a bit depth: 255 or 65535. */
export function maxValue(bitDepth: BitDepth): number {
  return bitDepth === 16 ? 65535 : 255;
}
