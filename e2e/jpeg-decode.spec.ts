/**
 * JPEGs are decoded by the browser (PNGs by src/lib/pngPixels.ts, exactly as Pillow): this measures how far
 * Chromium's JPEG decoder is from Pillow's (libjpeg-turbo) on the corpus's 10 JPEGs, and what that does to the VQ
 * ids, for the official-layout folder and TokLIP-Tiny (both official_toklip). The reference ids come from the
 * torch-free runner (`python -m toklip.runtime`: Pillow decode + the manifest's preprocessing + onnxruntime).
 * Decoders may legitimately differ by a few levels (IDCT and chroma upsampling), so this asserts the same picture
 * (sizes equal, mean |Δ| under 2 levels) and reports the numbers; they are written to
 * e2e/artifacts/jpeg-decode.json and quoted in the README.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, openApp, test } from './fixtures';

interface JpegCase {
  name: string;
  jpeg: string;
  pillow_rgb: string;
  width: number;
  height: number;
  options: Record<string, unknown>;
  mode: string;
}

const ROOT = resolve(import.meta.dirname, '..');
const CORPUS = resolve(ROOT, process.env.TOKLIP_PREPROCESS_CORPUS ?? 'models/.cache/preprocess-corpus');
const MODELS = ['synthetic-official-fp32', 'toklip-tiny'];

function jpegs(): JpegCase[] {
  const index = resolve(CORPUS, 'index.json');
  if (!existsSync(index)) {
    throw new Error(
      `${index} is missing: build the corpus with .venv/bin/python -m toklip.preprocess_corpus`,
    );
  }
  return (JSON.parse(readFileSync(index, 'utf8')) as { jpegs: JpegCase[] }).jpegs;
}

/** Chromium's pixels through the app's own decoder (window.__toklipDebug.decode, ?debug=1), as RGB. */
async function browserRgb(page: Page, c: JpegCase): Promise<{ width: number; height: number; rgb: Buffer }> {
  const b64 = readFileSync(resolve(CORPUS, c.jpeg)).toString('base64');
  const out = await page.evaluate(
    async ({ b64, name }) => {
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const dbg = (window as unknown as { __toklipDebug: { decode: (b: Blob, n: string) => Promise<{ rgba: Uint8ClampedArray; width: number; height: number }> } }).__toklipDebug; // prettier-ignore
      const d = await dbg.decode(new Blob([bytes], { type: 'image/jpeg' }), name);
      let s = '';
      for (let i = 0; i < d.rgba.length; i += 4)
        s += String.fromCharCode(d.rgba[i]!, d.rgba[i + 1]!, d.rgba[i + 2]!);
      return { width: d.width, height: d.height, rgb: btoa(s) };
    },
    { b64, name: c.jpeg },
  );
  return { width: out.width, height: out.height, rgb: Buffer.from(out.rgb, 'base64') };
}

function runnerIds(model: string, files: string[]): Record<string, number[]> {
  const out = execFileSync(
    resolve(ROOT, '.venv/bin/python'),
    ['-m', 'toklip.runtime', '--model', resolve(ROOT, 'public/models', model), '--json', '--no-verify', ...files.flatMap((f) => ['--image', f])],
    { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  ); // prettier-ignore
  const json = JSON.parse(out) as { images: { path: string; ids: number[][] }[] };
  return Object.fromEntries(json.images.map((im) => [im.path.split('/').pop()!, im.ids.flat()]));
}

test('Chromium vs Pillow JPEG decoding: pixel differences and their effect on VQ ids', async ({
  page,
  ep,
  consoleErrors,
}, info) => {
  test.skip(ep !== 'wasm', 'a measurement of the decoder; the graphs are the same on both providers');
  test.setTimeout(info.timeout * 3);
  const cases = jpegs();
  expect(cases.length, 'JPEGs in the corpus').toBe(10);
  const files = cases.map((c) => resolve(CORPUS, c.jpeg));
  const rows: Record<string, unknown>[] = [];
  const idStats: Record<string, { differ: number; total: number }> = {};

  for (const [m, model] of MODELS.entries()) {
    await openApp(page, ep, `&debug=1&model=${model}`);
    if (m === 0) {
      for (const c of cases) {
        const got = await browserRgb(page, c);
        expect([got.width, got.height], `${c.name}: decoded size`).toEqual([c.width, c.height]);
        const want = readFileSync(resolve(CORPUS, c.pillow_rgb));
        let max = 0;
        let sum = 0;
        let differ = 0;
        for (let i = 0; i < want.length; i++) {
          const d = Math.abs(got.rgb[i]! - want[i]!);
          if (d) differ++;
          sum += d;
          if (d > max) max = d;
        }
        const mean = sum / want.length;
        expect(mean, `${c.name}: mean |Δ| between Chromium's and Pillow's decode`).toBeLessThan(2);
        rows.push({ name: c.name, options: c.options, mode: c.mode, maxAbs: max, meanAbs: mean, differ: differ / want.length });
      } // prettier-ignore
    }
    const want = runnerIds(model, files);
    await page.getByTestId('file-input').setInputFiles(files);
    let differ = 0;
    let total = 0;
    for (const [i, c] of cases.entries()) {
      const card = page.locator(`[data-testid="image-card"][data-name="${c.jpeg}"]`);
      await expect(card, `${c.jpeg} finished`).toHaveAttribute('data-status', 'done');
      const got = (JSON.parse((await card.getAttribute('data-ids'))!) as number[][]).flat();
      const ref = want[c.jpeg]!;
      expect(got.length).toBe(ref.length);
      const n = got.filter((v, k) => v !== ref[k]).length;
      differ += n;
      total += got.length;
      (rows[i]![`ids_${model}`] as unknown) = `${n}/${got.length}`;
    }
    idStats[model] = { differ, total };
  }
  mkdirSync(resolve(ROOT, 'e2e/artifacts'), { recursive: true });
  writeFileSync(
    resolve(ROOT, 'e2e/artifacts/jpeg-decode.json'),
    JSON.stringify({ rows, idStats }, null, 1) + '\n',
  );
  const maxAbs = Math.max(...rows.map((r) => r.maxAbs as number));
  const meanAbs = rows.reduce((a, r) => a + (r.meanAbs as number), 0) / rows.length;
  console.log(
    `JPEG decode, Chromium vs Pillow on ${rows.length} JPEGs: max |Δ| ${maxAbs}, mean |Δ| ${meanAbs.toFixed(3)}; ` +
      Object.entries(idStats)
        .map(([k, v]) => `${k}: ${v.differ}/${v.total} VQ ids differ`)
        .join('; '),
  );
  for (const r of rows) console.log(JSON.stringify(r));
  expect(consoleErrors).toEqual([]);
});
