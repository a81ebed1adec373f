/** Main-thread side of the decode worker: one promise per request, a small pool of workers. */

export interface DecodeRequest {
  requestId: number;
  bytes: ArrayBuffer;
}

export type DecodeResponse =
  | {
      requestId: number;
      ok: true;
      width: number;
      height: number;
      bitDepth: 8 | 16;
      /** Raw values, row-major; 8-bit images widened to 16 bits. */
      data: Uint16Array;
      /** Box-averaged 16-bit levels 1, 2, … for zoomed-out drawing (see decode.worker.ts). */
      mips: { width: number; height: number; data: Uint16Array }[];
      /** Counts of every value (65536 or 256 bins). */
      histogram: Uint32Array;
      min: number;
      max: number;
      decodeMs: number;
    }
  | { requestId: number; ok: false; message: string };

export type DecodedPixels = Extract<DecodeResponse, { ok: true }>;

/**
 * Two workers: one decodes the image the user waits for while the other prefetches. More would only
 * compete for the machine's cores with the page itself.
 */
export class TiffDecoder {
  private readonly workers: Worker[] = [];
  private readonly busy = new Map<Worker, number>();
  private readonly pending = new Map<
    number,
    { resolve: (r: DecodedPixels) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;

  constructor(private readonly size = 2) {}

  decode(bytes: ArrayBuffer): Promise<DecodedPixels> {
    const worker = this.pickWorker();
    const requestId = this.nextId++;
    this.busy.set(worker, (this.busy.get(worker) ?? 0) + 1);
    return new Promise<DecodedPixels>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      worker.postMessage({ requestId, bytes } satisfies DecodeRequest, [bytes]);
    }).finally(() => this.busy.set(worker, (this.busy.get(worker) ?? 1) - 1));
  }

  dispose(): void {
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
    for (const p of this.pending.values()) p.reject(new Error('decoder closed'));
    this.pending.clear();
  }

  private pickWorker(): Worker {
    const idle = this.workers.find((w) => (this.busy.get(w) ?? 0) === 0);
    if (idle) return idle;
    if (this.workers.length < this.size) {
      const w = new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module' });
      w.onmessage = (ev: MessageEvent<DecodeResponse>) => this.settle(ev.data);
      w.onerror = (ev) => {
        for (const p of this.pending.values()) p.reject(new Error(`decoder crashed: ${ev.message}`));
        this.pending.clear();
      };
      this.workers.push(w);
      return w;
    }
    return this.workers.reduce((a, b) => ((this.busy.get(a) ?? 0) <= (this.busy.get(b) ?? 0) ? a : b));
  }

  private settle(res: DecodeResponse): void {
    const p = this.pending.get(res.requestId);
    if (!p) return;
    this.pending.delete(res.requestId);
    if (res.ok) p.resolve(res);
    else p.reject(new Error(`The image could not be decoded: ${res.message}`));
  }
}
