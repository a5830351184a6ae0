/** Colour helpers for rendering (pure). */

/** Token map: h×w RGBA from PCA colours per code. */
export function tokenMapRgba(ids: Int32Array, colours: Uint8ClampedArray): Uint8ClampedArray {
  const out = new Uint8ClampedArray(ids.length * 4);
  for (let i = 0; i < ids.length; i++) {
    const c = ids[i]! * 3;
    out[i * 4] = colours[c] ?? 0;
    out[i * 4 + 1] = colours[c + 1] ?? 0;
    out[i * 4 + 2] = colours[c + 2] ?? 0;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** A perceptually ordered dark→bright ramp (approximation of "inferno"). */
const RAMP: [number, number, number][] = [
  [0, 0, 4],
  [40, 11, 84],
  [101, 21, 110],
  [159, 42, 99],
  [212, 72, 66],
  [245, 125, 21],
  [250, 193, 39],
  [252, 255, 164],
];

export function rampColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i]!;
  const b = RAMP[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Error map (values in [0,1]) → RGBA, `scale` = value shown as the brightest colour. */
export function heatmapRgba(err: Float32Array, scale: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(err.length * 4);
  for (let i = 0; i < err.length; i++) {
    const [r, g, b] = rampColour(err[i]! / scale);
    out[i * 4] = r;
    out[i * 4 + 1] = g;
    out[i * 4 + 2] = b;
    out[i * 4 + 3] = 255;
  }
  return out;
}

export function cssRgb(colours: Uint8ClampedArray | undefined, id: number): string {
  if (!colours) return 'rgb(128,128,128)';
  return `rgb(${colours[id * 3]},${colours[id * 3 + 1]},${colours[id * 3 + 2]})`;
}
