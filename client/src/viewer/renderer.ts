/**
 * WebGL2 renderer of raw 16-bit pixels. The decoded values go to the GPU once, as an R16UI integer
 * texture read with `usampler2D`/`texelFetch` (integer textures cannot be filtered, so the shader does
 * its own sampling); window/level, inversion and false colour are applied per fragment on every frame.
 * There is never an 8-bit copy of the image: changing the window redraws from the true values. Zoomed
 * out, the shader reads box-averaged 16-bit mip levels made by the decode worker (one read per fragment).
 */
import type { ChannelWindows } from './window-level.ts';

export interface ViewTransform {
  /** Device pixels per image pixel. */
  scale: number;
  /** Canvas position (device pixels, top-left origin) of the image's top-left corner. */
  offsetX: number;
  offsetY: number;
}

export interface DrawParams {
  view: ViewTransform;
  windows: ChannelWindows;
  invert: boolean;
  falseColour: boolean;
}

export interface PixelSource {
  width: number;
  height: number;
  data: Uint16Array;
  /** Levels 1, 2, … (each half the size of the one above), 2×2 box averages of the raw values. */
  mips?: { width: number; height: number; data: Uint16Array }[];
}

/**
 * One quad over the image's on-canvas rectangle (a triangle strip from `gl_VertexID`, no vertex buffers). Only
 * the fragments that show the image are shaded — the rest of the canvas is a clear — and the rasteriser
 * clips the quad to the canvas, so a zoomed-in view shades only what is visible. On software WebGL
 * (SwiftShader) the cost of a frame is the number of shaded fragments, so this is what makes a frame cheap.
 */
const VERTEX = `#version 300 es
uniform vec4 u_rect;    // clip-space x0, y0, x1, y1 of the image's rectangle
uniform vec2 u_extent;  // the image's size in texels of the level read (fractional: width / 2^lod)
out vec2 v_texel;       // texel position in that level, interpolated per fragment
void main() {
  vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1));
  v_texel = corner * u_extent;
  gl_Position = vec4(mix(u_rect.xy, u_rect.zw, corner), 0.0, 1.0);
}`;

/**
 * The window/level shader, in variants chosen by #define so that a frame runs only the code it needs
 * (software WebGL executes both sides of a branch): GRAY (one window) or three windows as R, G, B (method
 * 4); FALSE_COLOUR maps the level through viridis.
 */
const fragment = (defines: string[]) => `#version 300 es
${defines.map((d) => `#define ${d}`).join('\n')}
precision highp float;
precision highp int;
precision highp usampler2D;
uniform usampler2D u_image;
uniform int u_lod;
uniform ivec2 u_last;   // the level's last texel (width - 1, height - 1)
uniform vec3 u_lo;
uniform vec3 u_hi;
uniform float u_invert; // 0 or 1
in vec2 v_texel;
out vec4 outColor;

// The paper's stretch (section 2.3): min(255, floor((clamp(x, lo, hi) - lo) * 256 / (hi - lo))) / 255;
// an empty window (hi <= lo) thresholds at lo instead.
float stretch(float x, float lo, float hi) {
  float span = hi - lo;
  float level = min(255.0, floor((clamp(x, lo, hi) - lo) * 256.0 / max(span, 1e-6)));
  return mix(level, step(lo + 0.5, x) * 255.0, step(span, 0.0)) / 255.0;
}

#ifdef FALSE_COLOUR
// Viridis, polynomial fit by Matt Zucker (CC0, shadertoy WlfXRN).
vec3 viridis(float t) {
  const vec3 c0 = vec3(0.2777273272234177, 0.005407344544966578, 0.3340998053353061);
  const vec3 c1 = vec3(0.1050930431085774, 1.404613529898575, 1.384590162594685);
  const vec3 c2 = vec3(-0.3308618287255563, 0.214847559468213, 0.09509516302823659);
  const vec3 c3 = vec3(-4.634230498983486, -5.799100973351585, -19.33244095627987);
  const vec3 c4 = vec3(6.228269936347081, 14.17993336680509, 56.69055260068105);
  const vec3 c5 = vec3(4.776384997670288, -13.74514537774601, -65.35303263337234);
  const vec3 c6 = vec3(-5.435455855934631, 4.645852612178535, 26.3124352495832);
  return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}
#endif

void main() {
  // Zoomed out, the level that matches the zoom (lod 0 = the true values); clamped against rounding at the edges.
  float x = float(texelFetch(u_image, clamp(ivec2(v_texel), ivec2(0), u_last), u_lod).r);
#ifdef GRAY
  vec3 v = vec3(abs(u_invert - stretch(x, u_lo.r, u_hi.r)));
#else
  vec3 v = abs(vec3(u_invert) - vec3(stretch(x, u_lo.r, u_hi.r), stretch(x, u_lo.g, u_hi.g), stretch(x, u_lo.b, u_hi.b)));
#endif
#ifdef FALSE_COLOUR
  v = viridis(v.r);
#endif
  outColor = vec4(v, 1.0);
}`;

const BACKGROUND = [0.106, 0.114, 0.129] as const;
const UNIFORMS = ['u_rect', 'u_extent', 'u_image', 'u_lod', 'u_last', 'u_lo', 'u_hi', 'u_invert'] as const;

interface Program {
  program: WebGLProgram;
  uniforms: Record<(typeof UNIFORMS)[number], WebGLUniformLocation | null>;
}

interface Entry {
  texture: WebGLTexture;
  /** Width and height of level 0, 1, … */
  sizes: [number, number][];
  usedAt: number;
}

export class XrayRenderer {
  private gl: WebGL2RenderingContext;
  private vao!: WebGLVertexArrayObject;
  private vertex!: WebGLShader;
  /** Compiled on first use: most sessions only ever need the grayscale one. */
  private programs = new Map<string, Program>();
  private textures = new Map<string, Entry>();
  /** A 1×1 render target for {@link warm}. */
  private scratch: { fb: WebGLFramebuffer; rb: WebGLRenderbuffer } | null = null;
  private clock = 0;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly capacity = 4,
  ) {
    // preserveDrawingBuffer: screenshots and pixel checks read the canvas after compositing.
    const gl = canvas.getContext('webgl2', { antialias: false, preserveDrawingBuffer: true, alpha: false });
    if (!gl) throw new Error('This browser has no WebGL2: the 16-bit viewer needs it.');
    this.gl = gl;
    this.vertex = this.compile(gl.VERTEX_SHADER, VERTEX);
    this.vao = gl.createVertexArray()!;
    this.program(false, false);
  }

  private compile(type: number, src: string): WebGLShader {
    const gl = this.gl;
    const s = gl.createShader(type)!;
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`shader: ${gl.getShaderInfoLog(s)}`);
    return s;
  }

  private program(rgb: boolean, falseColour: boolean): Program {
    const key = `${rgb ? 'rgb' : 'gray'}${falseColour ? '+viridis' : ''}`;
    const found = this.programs.get(key);
    if (found) return found;
    const gl = this.gl;
    const program = gl.createProgram()!;
    gl.attachShader(program, this.vertex);
    const defines = [...(rgb ? [] : ['GRAY']), ...(falseColour ? ['FALSE_COLOUR'] : [])];
    const frag = this.compile(gl.FRAGMENT_SHADER, fragment(defines));
    gl.attachShader(program, frag);
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS))
      throw new Error(`program: ${gl.getProgramInfoLog(program)}`);
    gl.deleteShader(frag);
    const uniforms = Object.fromEntries(
      UNIFORMS.map((n) => [n, gl.getUniformLocation(program, n)]),
    ) as Program['uniforms'];
    const made = { program, uniforms };
    this.programs.set(key, made);
    return made;
  }

  has(key: string): boolean {
    return this.textures.has(key);
  }

  /** Uploads the full 16-bit pixels once; later draws of `key` reuse the texture. Evicts least recently used. */
  upload(key: string, src: PixelSource): void {
    if (this.textures.has(key)) return;
    const gl = this.gl;
    const max = gl.getParameter(gl.MAX_TEXTURE_SIZE) as number;
    if (src.width > max || src.height > max) {
      throw new Error(
        `The image (${src.width}×${src.height}) exceeds this GPU's texture limit of ${max} pixels.`,
      );
    }
    while (this.textures.size >= this.capacity) this.evictOldest();
    const texture = gl.createTexture()!;
    const levels = [src, ...(src.mips ?? [])];
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texStorage2D(gl.TEXTURE_2D, levels.length, gl.R16UI, src.width, src.height);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 2);
    levels.forEach((l, i) =>
      gl.texSubImage2D(gl.TEXTURE_2D, i, 0, 0, l.width, l.height, gl.RED_INTEGER, gl.UNSIGNED_SHORT, l.data),
    );
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST_MIPMAP_NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAX_LEVEL, levels.length - 1);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    this.textures.set(key, {
      texture,
      sizes: levels.map((l) => [l.width, l.height]),
      usedAt: ++this.clock,
    });
    this.warm(texture);
  }

  /**
   * Makes the GPU take the uploaded pixels now. WebGL implementations (ANGLE among them) may keep an upload in
   * a staging buffer until the first draw that reads the texture, which would then pay for copying ~6 MB: the
   * first frame of a prefetched image. One fragment drawn into a 1×1 target that reads the texture, then a
   * flush, moves that copy to the upload's idle slot without waiting for it.
   */
  private warm(texture: WebGLTexture): void {
    const gl = this.gl;
    if (!this.scratch) {
      const fb = gl.createFramebuffer()!;
      const rb = gl.createRenderbuffer()!;
      gl.bindRenderbuffer(gl.RENDERBUFFER, rb);
      gl.renderbufferStorage(gl.RENDERBUFFER, gl.RGBA8, 1, 1);
      gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
      gl.framebufferRenderbuffer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.RENDERBUFFER, rb);
      this.scratch = { fb, rb };
    }
    const { program, uniforms: u } = this.program(false, false);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.scratch.fb);
    gl.viewport(0, 0, 1, 1);
    gl.useProgram(program);
    gl.bindVertexArray(this.vao);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.uniform1i(u.u_image, 0);
    gl.uniform4f(u.u_rect, -1, -1, 1, 1);
    gl.uniform2f(u.u_extent, 1, 1);
    gl.uniform1i(u.u_lod, 0);
    gl.uniform2i(u.u_last, 0, 0);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.flush();
  }

  /** Keeps only the textures named (current + upcoming), so memory follows the queue. */
  retain(keys: Iterable<string>): void {
    const keep = new Set(keys);
    for (const [k, e] of this.textures) {
      if (!keep.has(k)) {
        this.gl.deleteTexture(e.texture);
        this.textures.delete(k);
      }
    }
  }

  /** Draws texture `key`; returns false when it is not uploaded. */
  draw(key: string, p: DrawParams): boolean {
    const gl = this.gl;
    const e = this.textures.get(key);
    if (!e) return false;
    e.usedAt = ++this.clock;
    this.clear();
    const { scale, offsetX, offsetY } = p.view;
    const [width, height] = e.sizes[0];
    const cw = this.canvas.width;
    const ch = this.canvas.height;
    const x1 = offsetX + width * scale;
    const y1 = offsetY + height * scale;
    if (x1 <= 0 || y1 <= 0 || offsetX >= cw || offsetY >= ch) return true; // panned out of sight
    const [r, g, b] = p.windows;
    const rgb = r !== g || g !== b;
    const { program, uniforms: u } = this.program(rgb, p.falseColour);
    gl.useProgram(program);
    gl.bindVertexArray(this.vao);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, e.texture);
    gl.uniform1i(u.u_image, 0);
    // Canvas pixels (top-left origin) to clip space (bottom-left origin).
    gl.uniform4f(
      u.u_rect,
      (2 * offsetX) / cw - 1,
      1 - (2 * offsetY) / ch,
      (2 * x1) / cw - 1,
      1 - (2 * y1) / ch,
    );
    // Level whose texels are at most one screen pixel wide: floor(log2(1 / scale)), 0 when zoomed in.
    const lod = Math.min(e.sizes.length - 1, scale >= 1 ? 0 : Math.floor(Math.log2(1 / scale)));
    const [lw, lh] = e.sizes[lod];
    gl.uniform1i(u.u_lod, lod);
    gl.uniform2f(u.u_extent, width / 2 ** lod, height / 2 ** lod);
    gl.uniform2i(u.u_last, lw - 1, lh - 1);
    gl.uniform3f(u.u_lo, r.lo, g.lo, b.lo);
    gl.uniform3f(u.u_hi, r.hi, g.hi, b.hi);
    gl.uniform1f(u.u_invert, p.invert ? 1 : 0);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    return true;
  }

  /** Clears to the background (no image yet, and around the image). */
  clear(): void {
    const gl = this.gl;
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(BACKGROUND[0], BACKGROUND[1], BACKGROUND[2], 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
  }

  /** Waits for the GPU by reading one pixel back: "fully drawn" for benchmarks and tests. */
  sync(): void {
    const px = new Uint8Array(4);
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, px);
  }

  dispose(): void {
    this.retain([]);
    for (const p of this.programs.values()) this.gl.deleteProgram(p.program);
    this.programs.clear();
    this.gl.deleteShader(this.vertex);
    if (this.scratch) {
      this.gl.deleteFramebuffer(this.scratch.fb);
      this.gl.deleteRenderbuffer(this.scratch.rb);
    }
    this.gl.deleteVertexArray(this.vao);
  }

  private evictOldest(): void {
    let oldest: string | null = null;
    let at = Infinity;
    for (const [k, e] of this.textures) if (e.usedAt < at) ((at = e.usedAt), (oldest = k));
    if (oldest !== null) this.retain([...this.textures.keys()].filter((k) => k !== oldest));
  }
}
