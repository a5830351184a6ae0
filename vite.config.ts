import { createReadStream, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { pwa } from './vite-plugins/pwa.ts';
import { MODEL_ORIGINS_ENV, parseModelOrigins } from './src/lib/modelOrigins.ts';

/**
 * onnxruntime-web runtime files served from our own origin under /ort/ (never a CDN).
 * The WebGPU build of onnxruntime-web uses the asyncify wasm for both the WebGPU and the CPU EP.
 */
const ORT_DIST = resolve(import.meta.dirname, 'node_modules/onnxruntime-web/dist');
const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

/**
 * Origins besides the app's own that model folders may be loaded from (docs/HOSTING.md): none unless the build
 * names them, e.g. TOKLIP_MODEL_ORIGINS="https://huggingface.co https://*.hf.co" npm run build. A malformed
 * list stops the build with a message naming the entry.
 */
export const MODEL_ORIGINS = parseModelOrigins(process.env[MODEL_ORIGINS_ENV]);
const modelSources = MODEL_ORIGINS.map((o) => ` ${o}`).join('');

/** Headers for every response: cross-origin isolation (threads) and, outside dev, a strict CSP. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  // a URL model's sample thumbnails are <img>s from its origin
  `img-src 'self' blob: data:${modelSources}`,
  `connect-src 'self'${modelSources}`,
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
/** frame-ancestors only works as a header (browsers ignore it in <meta>). */
const CSP_HEADER = `${CSP}; frame-ancestors 'none'`;

const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

function ortRuntime(): Plugin {
  const serve: NonNullable<Plugin['configureServer']> = (server) => {
    server.middlewares.use((req, res, next) => {
      const url = (req.url ?? '').split('?')[0] ?? '';
      const name = url.startsWith('/ort/') ? url.slice('/ort/'.length) : '';
      if (!ORT_FILES.includes(name)) return next();
      const file = resolve(ORT_DIST, name);
      res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
      res.setHeader('Content-Length', String(statSync(file).size));
      for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
      createReadStream(file).pipe(res);
    });
  };
  return {
    name: 'toklip-ort-runtime',
    configureServer: serve,
    generateBundle() {
      for (const name of ORT_FILES) {
        this.emitFile({
          type: 'asset',
          fileName: `ort/${name}`,
          source: readFileSync(resolve(ORT_DIST, name)),
        });
      }
    },
  };
}

/** Adds the CSP as a <meta> tag in the built index.html (dev keeps Vite's inline HMR preamble working). */
function cspMeta(): Plugin {
  return {
    name: 'toklip-csp-meta',
    apply: 'build',
    transformIndexHtml() {
      return [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP },
          injectTo: 'head-prepend',
        },
      ];
    },
  };
}

export default defineConfig({
  base: './',
  // the app refuses a model URL outside the CSP's list itself, with a message, before fetching anything
  define: { __TOKLIP_MODEL_ORIGINS__: JSON.stringify(MODEL_ORIGINS) },
  plugins: [react(), tailwindcss(), ortRuntime(), cspMeta(), pwa(resolve(import.meta.dirname, 'public'))],
  // The non-bundled onnxruntime-web entry loads its runtime from env.wasm.wasmPaths (/ort/), so the 27 MB wasm
  // is not emitted a second time as a hashed asset.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
  server: { host: '127.0.0.1', port: 5173, headers: isolationHeaders },
  preview: {
    host: '127.0.0.1',
    port: 4173,
    strictPort: true,
    headers: { ...isolationHeaders, 'Content-Security-Policy': CSP_HEADER },
  },
});
