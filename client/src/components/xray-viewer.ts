import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { XrayRenderer, type ViewTransform } from '../viewer/renderer.ts';
import type { LoadedImage } from '../viewer/image-loader.ts';
import {
  PRESETS,
  autoWindow,
  dragWindow,
  gray,
  presetWindows,
  stepWindow,
  type ChannelWindows,
  type DatasetBounds,
  type ImageBounds,
  type Preset,
} from '../viewer/window-level.ts';
import './histogram-strip.ts';
import type { HistogramMark } from './histogram-strip.ts';
import { heatmapCanvas } from '../viewer/heatmap.ts';
import type { ImageHeatmap } from '../data/images.ts';

export interface ViewerDrawnDetail {
  imageId: string;
  /** performance.now() when the frame was on the GPU (after a one-pixel read-back in perf mode). */
  at: number;
  first: boolean;
}

declare global {
  interface Window {
    /** Set by benchmarks and tests: the viewer then waits for the GPU after each draw and keeps timings. */
    __platinaPerf?: { drawMs: number[]; sync: boolean };
  }
}

/**
 * The 16-bit X-ray viewer. Raw values live in a GPU integer texture; window/level, inversion and false
 * colour run in the fragment shader on every frame. Mouse: right-drag window/level, left-drag pan, wheel
 * zoom to the cursor. Keys (forwarded by the page through `handleKey`): arrows window/level, W auto window,
 * M next paper method, I invert, C false colour, F fit, O one-to-one, H heatmap overlay.
 *
 * The heatmap overlay is a 2D canvas above the WebGL one, drawn in the same frame with the same view transform
 * (the heatmap's grid stretched over the image's extent), so it stays aligned under zoom, pan and 1:1.
 *
 * Properties down: `loaded` (the image to show), `upcoming` (decoded images whose textures are uploaded
 * ahead while idle), `datasetBounds` (method 2's bounds), `heatmap` (the shown image's, when the caller may
 * see it: the page fetches it under the blind rule; null hides the overlay and its controls). Events up:
 * `viewer-drawn`.
 */
@customElement('xray-viewer')
export class XrayViewer extends LitElement {
  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 0;
      background: #1b1d21;
      color: #dfe3e8;
      border-radius: 6px;
      overflow: hidden;
      font:
        13px/1.4 system-ui,
        sans-serif;
    }
    .bar {
      display: flex;
      flex-wrap: wrap;
      gap: 4px;
      align-items: center;
      padding: 6px 8px;
      background: #23262b;
      border-bottom: 1px solid #33373d;
    }
    .bar .sep {
      width: 1px;
      height: 18px;
      background: #3a3f46;
      margin: 0 4px;
    }
    button {
      font: inherit;
      color: inherit;
      background: #2d3137;
      border: 1px solid #3a3f46;
      border-radius: 4px;
      padding: 2px 8px;
      cursor: pointer;
    }
    button:hover {
      background: #363b42;
    }
    button[aria-pressed='true'] {
      background: #2f5f93;
      border-color: #4b85c4;
    }
    .stage {
      position: relative;
      flex: 1;
      min-height: 200px;
      cursor: crosshair;
      touch-action: none;
    }
    canvas {
      position: absolute;
      inset: 0;
      width: 100%;
      height: 100%;
    }
    .readout {
      position: absolute;
      left: 8px;
      bottom: 8px;
      padding: 2px 6px;
      background: rgba(20, 22, 25, 0.8);
      border-radius: 4px;
      font-variant-numeric: tabular-nums;
      pointer-events: none;
    }
    .message {
      position: absolute;
      inset: 0;
      display: grid;
      place-items: center;
      color: #9aa3ad;
    }
    .grow {
      flex: 1;
    }
    .num {
      font-variant-numeric: tabular-nums;
      color: #b8c0c8;
    }
    canvas.heatmap {
      pointer-events: none;
    }
    .opacity {
      display: inline-flex;
      align-items: center;
      gap: 4px;
      color: #b8c0c8;
    }
    .opacity input {
      width: 90px;
    }
  `;

  @property({ attribute: false }) loaded: LoadedImage | null = null;
  @property({ attribute: false }) upcoming: LoadedImage[] = [];
  @property({ attribute: false }) datasetBounds: DatasetBounds | null = null;
  /** Shown instead of the image (loading, errors). */
  @property() message = '';
  /** The heatmap of the shown image; one of another image is ignored. */
  @property({ attribute: false }) heatmap: ImageHeatmap | null = null;

  @state() private preset: Preset | null = 'auto';
  @state() private windows: ChannelWindows = gray({ lo: 0, hi: 65536 });
  @state() private invert = false;
  @state() private falseColour = false;
  @state() private view: ViewTransform = { scale: 1, offsetX: 0, offsetY: 0 };
  @state() private readout: { x: number; y: number; value: number } | null = null;
  @state() private glError = '';
  /** The overlay is a reading mode like invert: it stays on from image to image until H again. */
  @state() private heatmapOn = false;
  @state() private heatmapOpacity = 0.7;

  @query('canvas') private canvas!: HTMLCanvasElement;
  @query('.stage') private stage!: HTMLElement;

  private renderer: XrayRenderer | null = null;
  private fit = true;
  private frame = 0;
  private idleUpload = 0;
  private shownId: string | null = null;
  private drawnId: string | null = null;
  /** What the canvas shows now (image, size, view, windows, modes), to skip redraws that change nothing. */
  private drawn = '';
  private drag: {
    kind: 'pan' | 'window';
    x: number;
    y: number;
    start: ChannelWindows;
    view: ViewTransform;
  } | null = null;
  private resize = new ResizeObserver(() => this.onResize());
  /** The heatmap's one-pixel-per-cell canvas, made once per heatmap. */
  private heatSource: { map: ImageHeatmap; canvas: HTMLCanvasElement } | null = null;
  /** What the overlay shows now, to skip redraws that change nothing. */
  private heatDrawn = '';

  override firstUpdated(): void {
    try {
      this.renderer = new XrayRenderer(this.canvas);
    } catch (err) {
      this.glError = err instanceof Error ? err.message : String(err);
    }
    this.canvas.addEventListener('webglcontextlost', (e) => e.preventDefault());
    this.canvas.addEventListener('webglcontextrestored', () => {
      this.renderer = new XrayRenderer(this.canvas);
      this.drawn = '';
      this.requestDraw();
    });
    this.resize.observe(this.stage);
    this.onResize();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    cancelAnimationFrame(this.frame);
    clearTimeout(this.idleUpload);
    this.renderer?.dispose();
    this.renderer = null;
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('loaded') && this.loaded?.image.id !== this.shownId) {
      this.shownId = this.loaded?.image.id ?? null;
      this.readout = null;
      if (this.loaded) {
        this.applyPreset(this.preset ?? 'auto');
        this.fitToScreen();
      }
    }
    if (changed.has('datasetBounds') && this.loaded && (this.preset === 'm2' || this.preset === 'm4')) {
      this.applyPreset(this.preset);
    }
  }

  override updated(): void {
    this.requestDraw();
  }

  // ---- public API for the page ---------------------------------------------------------------------------

  /** Fit, default window: the `R` key of the labeling page. */
  resetView(): void {
    this.invert = false;
    this.falseColour = false;
    this.applyPreset('auto');
    this.fitToScreen();
  }

  /** Handles the viewer's keys; returns true when the key was used. */
  handleKey(e: KeyboardEvent): boolean {
    if (!this.loaded) return false;
    const arrows: Record<string, 'up' | 'down' | 'left' | 'right'> = {
      ArrowUp: 'up',
      ArrowDown: 'down',
      ArrowLeft: 'left',
      ArrowRight: 'right',
    };
    const arrow = arrows[e.key];
    if (arrow) {
      this.setWindows(gray(stepWindow(this.windows[0], arrow)));
      return true;
    }
    switch (e.key.toLowerCase()) {
      case 'w':
        this.applyPreset('auto');
        return true;
      case 'm': {
        const order: Preset[] = ['m1', 'm2', 'm3', 'm4'];
        const i = this.preset ? order.indexOf(this.preset) : -1;
        this.applyPreset(order[(i + 1) % order.length]);
        return true;
      }
      case 'i':
        this.invert = !this.invert;
        return true;
      case 'c':
        this.falseColour = !this.falseColour;
        return true;
      case 'f':
        this.fitToScreen();
        return true;
      case 'o':
        this.oneToOne();
        return true;
      case 'h':
        if (!this.shownHeatmap) return false;
        this.heatmapOn = !this.heatmapOn;
        return true;
      default:
        return false;
    }
  }

  /** The heatmap of the image on screen, if the page gave one (never another image's). */
  private get shownHeatmap(): ImageHeatmap | null {
    const h = this.heatmap;
    return h && this.loaded && h.imageId === this.loaded.image.id ? h : null;
  }

  /** Current window of the first channel (for tests and the page's status line). */
  get currentWindows(): ChannelWindows {
    return this.windows;
  }

  // ---- rendering ------------------------------------------------------------------------------------------

  override render() {
    const img = this.loaded;
    const w = this.windows[0];
    const zoom = Math.round((this.view.scale / (devicePixelRatio || 1)) * 100);
    return html`
      <div class="bar" role="toolbar" aria-label="Viewer">
        ${PRESETS.map(
          (p) =>
            html`<button
              title=${p.title}
              aria-pressed=${this.preset === p.id ? 'true' : 'false'}
              @click=${() => this.applyPreset(p.id)}
            >
              ${p.label}
            </button>`,
        )}
        <span class="sep"></span>
        <button
          title="Invert (I)"
          aria-pressed=${String(this.invert)}
          @click=${() => (this.invert = !this.invert)}
        >
          Invert
        </button>
        <button
          title=${this.preset === 'm4' ? 'Method 4 is already in colour (methods 1, 2, 3 as R, G, B)' : 'False colour (C)'}
          aria-pressed=${String(this.falseColour && this.preset !== 'm4')}
          ?disabled=${this.preset === 'm4'}
          @click=${() => (this.falseColour = !this.falseColour)}
        >
          Colour
        </button>
        <span class="sep"></span>
        <button title="Fit to screen (F)" @click=${() => this.fitToScreen()}>Fit</button>
        <button title="One image pixel per screen pixel (O)" @click=${() => this.oneToOne()}>1:1</button>
        ${this.renderHeatmapControls()}
        <span class="grow"></span>
        <span class="num" data-testid="window"
          >${this.windows[0] === this.windows[1] ? `W ${w.lo}–${w.hi}` : 'RGB: M1 · M2 · M3'} · ${zoom}
          %</span
        >
      </div>
      <div
        class="stage"
        @pointerdown=${this.onPointerDown}
        @pointermove=${this.onPointerMove}
        @pointerup=${this.onPointerUp}
        @pointercancel=${this.onPointerUp}
        @pointerleave=${() => (this.readout = null)}
        @wheel=${this.onWheel}
        @contextmenu=${(e: Event) => e.preventDefault()}
        @dblclick=${() => this.fitToScreen()}
      >
        <canvas
          role="img"
          aria-label=${img ? `X-ray ${img.image.name}, window ${w.lo} to ${w.hi}` : 'No image'}
        ></canvas>
        ${
          this.heatmapOn && this.shownHeatmap
            ? html`<canvas class="heatmap" data-testid="heatmap-overlay" aria-hidden="true"></canvas>`
            : nothing
        }
        ${
          this.glError || this.message || !img
            ? html`<div class="message" role="status">${this.glError || this.message || 'Loading…'}</div>`
            : nothing
        }
        ${
          this.readout
            ? html`<div class="readout" data-testid="readout">
                x ${this.readout.x}, y ${this.readout.y} · <strong>${this.readout.value}</strong>
                <span class="num">(${img?.pixels.bitDepth ?? 16}-bit)</span>${this.heatReadout()}
              </div>`
            : nothing
        }
      </div>
      <histogram-strip
        .counts=${img?.pixels.histogram ?? null}
        .range=${this.histogramRange()}
        .windows=${this.windows}
        .marks=${this.marks()}
      ></histogram-strip>
    `;
  }

  /** The overlay's toggle, and its opacity while it is on; nothing when the caller has no heatmap to see. */
  private renderHeatmapControls() {
    if (!this.shownHeatmap) return nothing;
    return html`<span class="sep"></span>
      <button
        title="Heatmap overlay: where the evidence is strongest (H)"
        aria-pressed=${String(this.heatmapOn)}
        @click=${() => (this.heatmapOn = !this.heatmapOn)}
      >
        Heatmap
      </button>
      ${
        // Focus leaves the slider once a change is made (mouse release, or each arrow step), so the page's keys —
        // N, A, Enter, H — keep working: the pages ignore keys typed into inputs.
        this.heatmapOn
          ? html`<label class="opacity" title="Heatmap opacity">
              Opacity
              <input
                type="range"
                min="0"
                max="100"
                step="5"
                aria-label="Heatmap opacity"
                .value=${String(Math.round(this.heatmapOpacity * 100))}
                @input=${(e: Event) =>
                  (this.heatmapOpacity = Number((e.target as HTMLInputElement).value) / 100)}
                @change=${(e: Event) => (e.target as HTMLInputElement).blur()}
              />
            </label>`
          : nothing
      }`;
  }

  /** The heatmap's value (noise units) of the cell under the cursor, while the overlay is on. */
  private heatReadout() {
    const h = this.shownHeatmap;
    const l = this.loaded;
    if (!this.heatmapOn || !h || !l || !this.readout) return nothing;
    const cx = Math.min(h.width - 1, Math.floor((this.readout.x * h.width) / l.pixels.width));
    const cy = Math.min(h.height - 1, Math.floor((this.readout.y * h.height) / l.pixels.height));
    return html` ·
      <span class="num" title="Evidence in noise units (|z|)"
        >heat ${h.values[cy * h.width + cx].toFixed(1)}</span
      >`;
  }

  private marks(): HistogramMark[] {
    if (!this.datasetBounds) return [];
    return [
      { value: this.datasetBounds.globalMin, label: `Gmin ${this.datasetBounds.globalMin}` },
      { value: this.datasetBounds.globalMax, label: `Gmax ${this.datasetBounds.globalMax}` },
    ];
  }

  /** The coating's range (auto window, widened) joined with the current window, so both stay readable. */
  private histogramRange(): [number, number] {
    const b = this.bounds();
    if (!b) return [0, 65535];
    const auto = autoWindow(b);
    const pad = (auto.hi - auto.lo) * 0.6;
    let lo = auto.lo - pad;
    let hi = auto.hi + pad;
    for (const w of this.windows) ((lo = Math.min(lo, w.lo)), (hi = Math.max(hi, w.hi)));
    return [Math.max(0, lo), hi];
  }

  private bounds(): ImageBounds | null {
    const l = this.loaded;
    if (!l) return null;
    return {
      bitDepth: l.pixels.bitDepth,
      p0_01: l.image.stats.p0_01,
      p99_99: l.image.stats.p99_99,
      histogram: l.pixels.histogram,
      pixels: l.pixels.width * l.pixels.height,
    };
  }

  private applyPreset(p: Preset): void {
    const b = this.bounds();
    this.preset = p;
    if (b) this.windows = presetWindows(p, b, this.datasetBounds);
  }

  private setWindows(w: ChannelWindows): void {
    this.preset = null;
    this.windows = w;
  }

  private requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const r = this.renderer;
    if (!r) return;
    const l = this.loaded;
    if (!l) {
      r.clear();
      this.drawn = '';
      return;
    }
    const key = l.image.id;
    this.drawHeatmap();
    // The page re-renders for reasons of its own (form keys, prefetch slots arriving, the outbox): redraw
    // only when something that decides the pixels changed. A software-WebGL frame costs tens of milliseconds
    // of CPU, which the next Enter or drag frame would otherwise wait behind.
    const params = {
      view: this.view,
      windows: this.windows,
      invert: this.invert,
      // Method 4 is colour already (three windows as R, G, B): viridis over its red channel, method 1's full
      // 16-bit stretch, painted every electrode one flat purple. False colour applies to one window only.
      falseColour: this.falseColour && this.preset !== 'm4',
    };
    const signature = JSON.stringify([key, r.canvas.width, r.canvas.height, params]);
    if (signature === this.drawn) {
      this.scheduleUploads();
      return;
    }
    const perf = window.__platinaPerf;
    const t0 = performance.now();
    if (!r.has(key)) r.upload(key, l.pixels);
    r.draw(key, params);
    this.drawn = signature;
    if (perf?.sync) {
      r.sync();
      perf.drawMs.push(performance.now() - t0);
    }
    const first = this.drawnId !== key;
    this.drawnId = key;
    this.dispatchEvent(
      new CustomEvent<ViewerDrawnDetail>('viewer-drawn', {
        detail: { imageId: key, at: performance.now(), first },
        bubbles: true,
        composed: true,
      }),
    );
    this.scheduleUploads();
  }

  /**
   * Draws the overlay with the image layer's transform: the heatmap's w×h grid covers the image's W×H pixels,
   * so it is drawn at (offsetX, offsetY) with size (W·scale, H·scale) — the very mapping the shader uses — and
   * smoothed (bilinear between cell centres) by the canvas.
   */
  private drawHeatmap(): void {
    const overlay = this.renderRoot.querySelector<HTMLCanvasElement>('canvas.heatmap');
    const h = this.shownHeatmap;
    const l = this.loaded;
    if (!overlay || !h || !l) {
      this.heatDrawn = '';
      return;
    }
    overlay.style.opacity = String(this.heatmapOpacity); // CSSOM, allowed under a strict style-src
    if (this.heatSource?.map !== h) this.heatSource = { map: h, canvas: heatmapCanvas(h) };
    const { width, height } = this.canvas;
    const signature = JSON.stringify([h.imageId, h.version, width, height, this.view]);
    if (overlay.width === width && overlay.height === height && signature === this.heatDrawn) return;
    overlay.width = width;
    overlay.height = height;
    const g = overlay.getContext('2d')!;
    g.clearRect(0, 0, width, height);
    g.imageSmoothingEnabled = true;
    g.imageSmoothingQuality = 'high';
    const v = this.view;
    g.drawImage(
      this.heatSource.canvas,
      v.offsetX,
      v.offsetY,
      l.pixels.width * v.scale,
      l.pixels.height * v.scale,
    );
    this.heatDrawn = signature;
  }

  /** Uploads one upcoming texture per idle slot after the current frame, so prefetched images draw at once. */
  private scheduleUploads(): void {
    clearTimeout(this.idleUpload);
    const r = this.renderer;
    if (!r) return;
    const keep = [this.loaded?.image.id, ...this.upcoming.map((u) => u.image.id)].filter(
      (x): x is string => !!x,
    );
    const todo = this.upcoming.find((u) => !r.has(u.image.id));
    if (!todo) return;
    this.idleUpload = window.setTimeout(() => {
      if (this.drag) return this.scheduleUploads();
      r.retain(keep);
      r.upload(todo.image.id, todo.pixels);
      this.scheduleUploads();
    }, 30);
  }

  // ---- view geometry --------------------------------------------------------------------------------------

  private onResize(): void {
    const c = this.canvas;
    if (!c) return;
    const dpr = devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.stage.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.stage.clientHeight * dpr));
    if (c.width === w && c.height === h) return;
    c.width = w;
    c.height = h;
    if (this.fit) this.fitToScreen();
    this.requestDraw();
  }

  private fitToScreen(): void {
    const l = this.loaded;
    const c = this.canvas;
    this.fit = true;
    if (!l || !c || !c.width) return;
    const scale = Math.min(c.width / l.pixels.width, c.height / l.pixels.height);
    this.view = {
      scale,
      offsetX: (c.width - l.pixels.width * scale) / 2,
      offsetY: (c.height - l.pixels.height * scale) / 2,
    };
  }

  private oneToOne(): void {
    const c = this.canvas;
    this.zoomAt(c.width / 2, c.height / 2, 1);
  }

  private zoomAt(cx: number, cy: number, scale: number): void {
    const v = this.view;
    const s = Math.min(64, Math.max(0.02, scale));
    const ix = (cx - v.offsetX) / v.scale;
    const iy = (cy - v.offsetY) / v.scale;
    this.fit = false;
    this.view = { scale: s, offsetX: cx - ix * s, offsetY: cy - iy * s };
  }

  private devicePoint(e: PointerEvent | WheelEvent): [number, number] {
    const rect = this.canvas.getBoundingClientRect();
    const dpr = devicePixelRatio || 1;
    return [(e.clientX - rect.left) * dpr, (e.clientY - rect.top) * dpr];
  }

  private onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    const [x, y] = this.devicePoint(e);
    this.zoomAt(x, y, this.view.scale * Math.exp(-e.deltaY * 0.0015));
  };

  private onPointerDown = (e: PointerEvent): void => {
    if (!this.loaded || (e.button !== 0 && e.button !== 2)) return;
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    this.drag = {
      kind: e.button === 2 ? 'window' : 'pan',
      x: e.clientX,
      y: e.clientY,
      start: this.windows,
      view: this.view,
    };
  };

  private onPointerMove = (e: PointerEvent): void => {
    const d = this.drag;
    if (d) {
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (d.kind === 'pan') {
        const dpr = devicePixelRatio || 1;
        this.fit = false;
        this.view = { ...d.view, offsetX: d.view.offsetX + dx * dpr, offsetY: d.view.offsetY + dy * dpr };
      } else {
        const max = this.loaded?.pixels.bitDepth === 8 ? 255 : 65535;
        this.setWindows(gray(dragWindow(d.start[0], dx, dy, max)));
      }
    }
    this.updateReadout(e);
  };

  private onPointerUp = (e: PointerEvent): void => {
    if (this.drag) (e.currentTarget as HTMLElement).releasePointerCapture(e.pointerId);
    this.drag = null;
  };

  private updateReadout(e: PointerEvent): void {
    const l = this.loaded;
    if (!l) return;
    const [cx, cy] = this.devicePoint(e);
    const x = Math.floor((cx - this.view.offsetX) / this.view.scale);
    const y = Math.floor((cy - this.view.offsetY) / this.view.scale);
    if (x < 0 || y < 0 || x >= l.pixels.width || y >= l.pixels.height) {
      this.readout = null;
      return;
    }
    this.readout = { x, y, value: l.pixels.data[y * l.pixels.width + x] };
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'xray-viewer': XrayViewer;
  }
}
