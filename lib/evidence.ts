/**
 * The evidence definition shared by the model runner (which computes and stores `image_evidence` rows) and the
 * API (which serves their heatmaps): one home for its version, so the API never imports model-runner code.
 */

/**
 * Bumped whenever any feature's definition changes: it is part of every cache key and stored with every model
 * version trained on evidence, so vectors (and heatmaps) of two definitions are never mixed.
 */
export const EVIDENCE_VERSION = 'evidence-1';

/**
 * Decodes a stored heatmap (`image_evidence.heatmap`: float32 little-endian, row-major) into numbers. Reads
 * through a DataView, since a Buffer from the driver may sit at any byte offset of a shared pool.
 */
export function decodeHeatmap(bytes: Uint8Array, width: number, height: number): Float32Array {
  const n = width * height;
  if (bytes.byteLength !== n * 4)
    throw new Error(`heatmap of ${width}×${height} needs ${n * 4} bytes, got ${bytes.byteLength}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
