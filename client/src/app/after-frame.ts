/**
 * Resolves in the task after the next frame. Work that the user does not wait for (sending a vote through the
 * outbox, prefetching the images after the next one) starts after the frame that shows the next image, so on a
 * machine with few cores it does not compete with drawing that frame: the server's handling of the request and
 * the worker's decoding run on the same CPUs as a software WebGL rasteriser.
 */
export function afterNextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}
