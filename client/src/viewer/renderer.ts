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

const VERTEX = `#version 300 es
void main() {
  // One triangle that covers the viewport; no vertex buffers needed.
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

const FRAGMENT = `#version 300 es
precision highp float;
precision highp int;
precision highp usampler2D;
uniform usampler2D u_image;
uniform vec2 u_imageSize;
uniform float u_canvasHeight;
uniform vec2 u_offset;
uniform float u_scale;
uniform int u_lod;
uniform vec3 u_lo;
uniform vec3 u_hi;
uniform bool u_invert;
uniform bool u_falseColour;
out vec4 outColor;

float raw(vec2 p) {
  ivec2 size = textureSize(u_image, u_lod);
  ivec2 q = clamp(ivec2(floor(p / float(1 << u_lod))), ivec2(0), size - 1);
  return float(texelFetch(u_image, q, u_lod).r);
}

// The paper's stretch (section 2.3): min(255, floor((clamp(x, lo, hi) - lo) * 256 / (hi - lo))) / 255.
vec3 stretch(float x) {
  vec3 span = u_hi - u_lo;
  vec3 c = clamp(vec3(x), u_lo, u_hi);
  vec3 level = min(vec3(255.0), floor((c - u_lo) * 256.0 / max(span, vec3(1e-6))));
  vec3 threshold = step(u_lo + 0.5, vec3(x)) * 255.0;
  return mix(level, threshold, step(span, vec3(0.0))) / 255.0;
}

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

void main() {
  vec2 frag = vec2(gl_FragCoord.x, u_canvasHeight - gl_FragCoord.y);
  vec2 p = (frag - u_offset) / u_scale;
  if (p.x < 0.0 || p.y < 0.0 || p.x >= u_imageSize.x || p.y >= u_imageSize.y) {
    outColor = vec4(0.106, 0.114, 0.129, 1.0);
    return;
  }
  // Zoomed out, read the box-averaged level that matches the zoom (lod 0 = the true values).
  float x = raw(p);
  vec3 v = stretch(x);
  if (u_invert) v = 1.0 - v;
  if (u_falseColour) v = viridis(v.r);
  outColor = vec4(v, 1.0);
}`;

interface Entry {
  texture: WebGLTexture;
  width: number;
  height: number;
  levels: number;
  usedAt: number;
}

export class XrayRenderer {
  private gl: WebGL2RenderingContext;
  private program!: WebGLProgram;
  private vao!: WebGLVertexArrayObject;
  private uniforms = new Map<string, WebGLUniformLocation | null>();
  private textures = new Map<string, Entry>();
  private clock = 0;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly capacity = 4,
  ) {
    // preserveDrawingBuffer: screenshots and pixel checks read the canvas after compositing.
    const gl = canvas.getContext('webgl2', { antialias: false, preserveDrawingBuffer: true, alpha: false });
    if (!gl) throw new Error('This browser has no WebGL2: the 16-bit viewer needs it.');
    this.gl = gl;
    this.init();
  }

  private init(): void {
    const gl = this.gl;
    const compile = (type: number, src: string) => {
      const s = gl.createShader(type)!;
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`shader: ${gl.getShaderInfoLog(s)}`);
      return s;
    };
    const prog = gl.createProgram()!;
    gl.attachShader(prog, compile(gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(prog, compile(gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS))
      throw new Error(`program: ${gl.getProgramInfoLog(prog)}`);
    this.program = prog;
    this.vao = gl.createVertexArray()!;
    for (const name of [
      'u_image',
      'u_imageSize',
      'u_canvasHeight',
      'u_offset',
      'u_scale',
      'u_lod',
      'u_lo',
      'u_hi',
      'u_invert',
      'u_falseColour',
    ]) {
      this.uniforms.set(name, gl.getUniformLocation(prog, name));
    }
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
      width: src.width,
      height: src.height,
      levels: levels.length,
      usedAt: ++this.clock,
    });
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
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.useProgram(this.program);
    gl.bindVertexArray(this.vao);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, e.texture);
    const u = (n: string) => this.uniforms.get(n) ?? null;
    gl.uniform1i(u('u_image'), 0);
    gl.uniform2f(u('u_imageSize'), e.width, e.height);
    gl.uniform1f(u('u_canvasHeight'), this.canvas.height);
    gl.uniform2f(u('u_offset'), p.view.offsetX, p.view.offsetY);
    gl.uniform1f(u('u_scale'), p.view.scale);
    // Level whose texels are at most one screen pixel wide: floor(log2(1 / scale)), 0 when zoomed in.
    const lod = p.view.scale >= 1 ? 0 : Math.floor(Math.log2(1 / p.view.scale));
    gl.uniform1i(u('u_lod'), Math.min(e.levels - 1, Math.max(0, lod)));
    const [r, g, b] = p.windows;
    gl.uniform3f(u('u_lo'), r.lo, g.lo, b.lo);
    gl.uniform3f(u('u_hi'), r.hi, g.hi, b.hi);
    gl.uniform1i(u('u_invert'), p.invert ? 1 : 0);
    gl.uniform1i(u('u_falseColour'), p.falseColour ? 1 : 0);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
    return true;
  }

  /** Clears to the background (no image yet). */
  clear(): void {
    const gl = this.gl;
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(0.106, 0.114, 0.129, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
  }

  /** Waits for the GPU by reading one pixel back: "fully drawn" for benchmarks and tests. */
  sync(): void {
    const px = new Uint8Array(4);
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, px);
  }

  dispose(): void {
    this.retain([]);
    this.gl.deleteProgram(this.program);
    this.gl.deleteVertexArray(this.vao);
  }

  private evictOldest(): void {
    let oldest: string | null = null;
    let at = Infinity;
    for (const [k, e] of this.textures) if (e.usedAt < at) ((at = e.usedAt), (oldest = k));
    if (oldest !== null) this.retain([...this.textures.keys()].filter((k) => k !== oldest));
  }
}
