/**
 * Build-only: makes dist/ installable and usable offline.
 * - sw.js: src/sw/sw.ts bundled as one classic script at the root of dist/ (its scope is then the app's folder,
 *   wherever that is hosted), with the precache list and a version (hash of every precached file) written in;
 * - manifest.webmanifest and its PNG icons, drawn here (no external fetches, no binary files in the repository);
 * - <link rel="manifest"> and theme colour in index.html.
 * The precache holds the app shell, the onnxruntime runtime (ort/) and, for every model folder in public/models,
 * its manifest.json and samples; model graphs are cached by the inference worker when it verifies them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { encode } from 'fast-png';
import type { Plugin } from 'vite';
import { modelShellFiles, type SwBuild } from '../src/lib/swPolicy.ts';

const SW_ENTRY = resolve(import.meta.dirname, '../src/sw/sw.ts');
const PLACEHOLDER = /(["'`])__TOKLIP_SW_BUILD__\1/; // the minifier may pick any quote
const THEME = '#0284c7';
const BACKGROUND = '#f8fafc';

/** The favicon's picture (four token tiles on the brand blue), full bleed so it also works as maskable. */
export function drawIcon(size: number): Uint8Array {
  const px = new Uint8Array(size * size * 4);
  const blue = [0x02, 0x84, 0xc7];
  // tiles inside the central 50%: well within the maskable safe circle (radius 40%)
  const a0 = 0.25,
    a1 = 0.47,
    b0 = 0.53,
    b1 = 0.75;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5) / size,
        v = (y + 0.5) / size;
      const col = u >= a0 && u < a1 ? 0 : u >= b0 && u < b1 ? 1 : -1;
      const row = v >= a0 && v < a1 ? 0 : v >= b0 && v < b1 ? 1 : -1;
      // white tiles; the off-diagonal ones at 60% like the favicon
      const alpha = col < 0 || row < 0 ? 0 : col === row ? 1 : 0.6;
      const i = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) px[i + c] = Math.round(blue[c]! * (1 - alpha) + 255 * alpha);
      px[i + 3] = 255;
    }
  return px;
}

function webManifest(icons: { src: string; size: number }[]): string {
  return JSON.stringify(
    {
      name: 'TokLIP Studio',
      short_name: 'TokLIP',
      description:
        "An image's discrete tokens, their reconstruction and CLIP-space similarity, in your browser.",
      start_url: './',
      scope: './',
      display: 'standalone',
      background_color: BACKGROUND,
      theme_color: THEME,
      icons: icons.flatMap(({ src, size }) =>
        (['any', 'maskable'] as const).map((purpose) => ({
          src,
          sizes: `${size}x${size}`,
          type: 'image/png',
          purpose,
        })),
      ),
    },
    null,
    2,
  );
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function pwa(publicDir: string): Plugin {
  return {
    name: 'toklip-pwa',
    apply: 'build',
    enforce: 'post',
    buildStart() {
      this.emitFile({ type: 'chunk', id: SW_ENTRY, fileName: 'sw.js' });
    },
    transformIndexHtml() {
      return [
        { tag: 'link', attrs: { rel: 'manifest', href: 'manifest.webmanifest' }, injectTo: 'head' },
        { tag: 'meta', attrs: { name: 'theme-color', content: THEME }, injectTo: 'head' },
        { tag: 'link', attrs: { rel: 'apple-touch-icon', href: 'icons/icon-192.png' }, injectTo: 'head' },
      ];
    },
    generateBundle(_options, bundle) {
      const files = new Map<string, string>();
      const emit = (fileName: string, source: string | Uint8Array) => {
        this.emitFile({ type: 'asset', fileName, source });
        files.set(fileName, sha256(source));
      };
      const icons = [192, 512].map((size) => ({ src: `icons/icon-${size}.png`, size }));
      for (const { src, size } of icons)
        emit(src, encode({ width: size, height: size, data: drawIcon(size), channels: 4, depth: 8 }));
      emit('manifest.webmanifest', webManifest(icons));

      // every file of the bundle (index.html, assets/, ort/) except the service worker itself
      for (const [name, out] of Object.entries(bundle)) {
        if (name === 'sw.js' || name.endsWith('.map')) continue;
        files.set(name, sha256(out.type === 'chunk' ? out.code : out.source));
      }
      // and from public/: top-level files (favicon) and each model folder's manifest and samples
      for (const entry of readdirSync(publicDir, { withFileTypes: true }))
        if (entry.isFile()) files.set(entry.name, sha256(readFileSync(resolve(publicDir, entry.name))));
      const modelsDir = resolve(publicDir, 'models');
      for (const id of existsSync(modelsDir) ? readdirSync(modelsDir).sort() : []) {
        const manifestFile = resolve(modelsDir, id, 'manifest.json');
        if (!existsSync(manifestFile)) continue;
        const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { samples?: { file: string }[] };
        for (const path of modelShellFiles(`models/${id}/`, manifest)) {
          const file = resolve(publicDir, path);
          if (existsSync(file)) files.set(path, sha256(readFileSync(file)));
        }
      }
      const precache = [...files.keys()].sort();
      const build: SwBuild = {
        version: sha256(precache.map((p) => `${p}\0${files.get(p)}`).join('\n')).slice(0, 16),
        precache,
      };
      const sw = bundle['sw.js'];
      if (sw?.type !== 'chunk' || !PLACEHOLDER.test(sw.code))
        this.error('sw.js was not built with its placeholder');
      if (/^\s*(import|export)\b/m.test(sw.code))
        this.error('sw.js must be a self-contained classic script (it imports or exports)');
      sw.code = sw.code.replace(PLACEHOLDER, () => JSON.stringify(JSON.stringify(build)));
    },
  };
}
