/**
 * Official TokLIP layout (docs/CONTRACT.md, "Large models"): the app loads folders written by toklip-export /
 * toklip-synth-official (text encoder fed token embeddings from a CPU-side table, ONNX external-data shards,
 * variant and memory fields) and shows what onnxruntime-node computes on the same folder in this process:
 * VQ ids identical (but see TOKLIP_PARITY_MAX_ID_MISMATCH), prompt cosines within 1e-3 (the node side embeds the
 * app's ids, so each graph is compared on the same input). The node side (e2e/nodeReference.ts) cleans and tokenizes with src/lib/text.ts and
 * reads table rows with src/lib/embeddingTable.ts, as the worker does; the input PNG is exactly the model's
 * size, so its pixel tensor is the raw RGB normalised with the manifest's mean/std (no resize to mirror).
 *
 * Environment (so the same spec runs on a full-depth export):
 *   TOKLIP_PARITY_MODELS         comma-separated model ids (default synthetic-official-fp32,-q4,-int8; q4: 4-bit MatMulNBits);
 *                                the app serves them as models/<id>/ (from dist/, i.e. public/models at build time).
 *                                The 2nd, 4th, … are opened with ?table=range (rows by HTTP Range requests), the
 *                                others let the app choose (the whole table when it is at most 64 MiB).
 *   TOKLIP_PARITY_DIR            folder holding the same model folders for onnxruntime-node (default public/models);
 *                                outside public/, a folder missing from dist/models is hard-linked there for the run
 *   TOKLIP_PARITY_WEBGPU_MODEL   the model of the @webgpu parity test (default: the last of TOKLIP_PARITY_MODELS)
 *   TOKLIP_PARITY_REFUSED_MODEL  a folder whose variant SwiftShader and WASM must refuse, exported with an int8 sibling
 *                                (manifest.variants) that WASM opens instead (default synthetic-official-fp16)
 *   TOKLIP_PARITY_TIMEOUT_SCALE  multiplies every timeout here (full-depth TokLIP-S on SwiftShader WebGPU: 200; it took 55 min)
 *   TOKLIP_PARITY_MAX_ID_MISMATCH  fraction of VQ ids allowed to differ (default 0: identical). WASM's and the
 *                                native CPU's float kernels can flip an argmax where the two best codes are
 *                                within ~1e-5 of each other: seen once in 512 ids of a full-depth random-weight
 *                                TokLIP-S int8 (similarity gap 1.7e-5, median gap 1.2e-2). The failure names them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { APIRequestContext, Page, Route } from '@playwright/test';
import { bytesText, tableMode, WASM_HEAP_LIMIT_BYTES } from '../src/lib/capacity';
import { validateManifest, type Manifest } from '../src/lib/manifest';
import { expect, test } from './fixtures';
import { NodeReference, squarePng } from './nodeReference';
import { loadFolder } from './modelPanel';
import { expectPlacedOn } from './placements';

const ROOT = resolve(import.meta.dirname, '..');
const MODELS = (
  process.env.TOKLIP_PARITY_MODELS ?? 'synthetic-official-fp32,synthetic-official-q4,synthetic-official-int8'
)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const DIR = resolve(ROOT, process.env.TOKLIP_PARITY_DIR ?? 'public/models');
const WEBGPU_MODEL = process.env.TOKLIP_PARITY_WEBGPU_MODEL ?? MODELS[MODELS.length - 1]!;
const REFUSED_MODEL = process.env.TOKLIP_PARITY_REFUSED_MODEL ?? 'synthetic-official-fp16';
const SCALE = Math.max(1, Number(process.env.TOKLIP_PARITY_TIMEOUT_SCALE ?? 1) || 1);
const MAX_ID_MISMATCH = Math.max(0, Number(process.env.TOKLIP_PARITY_MAX_ID_MISMATCH ?? 0) || 0);

/** What scripts/test.sh runs before npm test (from the repository root). */
const SHALLOW_COMMAND =
  'rm -rf public/models/synthetic-official-* && ' +
  '.venv/bin/toklip-synth-official --depth shallow --out /tmp/synth-shallow --export public/models ' +
  '--id synthetic-official --dtype fp32 int8 fp16 q4 && npx vite build';

const PROMPTS = [
  'a photo of a cat',
  'A_Photo of a DOG!!',
  'café crème 😀 #1',
  'numbers 12345 and 6789',
  "it's a dog-house (maybe) [really]",
  'a car a tree a house a photo of the sun and a flower on a table with more words than fit in the context',
];

function howToMake(id: string): string {
  if (id.startsWith('synthetic-official-'))
    return `generate it from the repository root with:\n  ${SHALLOW_COMMAND}`;
  return (
    'export it with toklip-export (docs/OFFICIAL.md), e.g.\n' +
    `  .venv/bin/toklip-export --checkpoint TokLIP_S_256.pt --vq vq_ds16_t2i.pt --tokenizer <tokenizer folder> ` +
    `--variant S_256 --dtype int8 --out public/models/${id}\n` +
    '(random weights at full size: .venv/bin/toklip-synth-official --depth full --out /tmp/synth-full, then ' +
    'toklip-export on its files), and rebuild with npx vite build'
  );
}

/** dist/models/<id> hard-linked here from a TOKLIP_PARITY_DIR outside public/, removed after the tests. */
const linked: string[] = [];
test.afterAll(() => {
  for (const dir of linked.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The folder on disk (node reference) and the copy the app serves must both exist and be the same export. */
async function requireFolder(request: APIRequestContext, id: string): Promise<Manifest> {
  const file = resolve(DIR, id, 'manifest.json');
  if (!existsSync(file)) {
    throw new Error(
      `model folder ${resolve(DIR, id)} is missing (TOKLIP_PARITY_DIR=${DIR}): ${howToMake(id)}`,
    );
  }
  const served = resolve(ROOT, 'dist/models', id);
  if (DIR !== resolve(ROOT, 'public/models') && existsSync(resolve(ROOT, 'dist')) && !existsSync(served)) {
    // As bench/run.mjs does: a multi-GB export outside public/ is served through hard links, not a copy
    // (vite preview looks files up per request).
    execFileSync('cp', ['-al', resolve(DIR, id), served]);
    linked.push(served);
  }
  const disk = readFileSync(file, 'utf8');
  const res = await request.get(`models/${id}/manifest.json`);
  const type = res.headers()['content-type'] ?? '';
  if (!res.ok() || type.startsWith('text/html')) {
    throw new Error(
      `the app does not serve models/${id}/ (HTTP ${res.status()}, ${type}): it serves dist/, copied from ` +
        `public/models at build time; put the folder under public/models and run npx vite build. ${howToMake(id)}`,
    );
  }
  if ((await res.text()) !== disk) {
    throw new Error(
      `models/${id}/manifest.json served by the app differs from ${file}: rebuild (npx vite build) after exporting`,
    );
  }
  return validateManifest(JSON.parse(disk));
}

/** An S×S RGB picture (gradients, a disc, a checker corner) and its raw RGB. */
function picture(S: number, seed: number): { png: Buffer; rgb: Uint8Array } {
  const rgb = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const i = (y * S + x) * 3;
      const disc = Math.hypot(x - S * 0.55, y - S * 0.45) < S * (0.2 + 0.05 * seed);
      const checker = x < S / 3 && y > (2 * S) / 3 && ((x >> 2) + (y >> 2)) % 2 === 0;
      rgb[i] = disc ? 220 : checker ? 10 : Math.round((x * 255) / S);
      rgb[i + 1] = disc ? 30 + 60 * seed : checker ? 250 : Math.round((y * 255) / S);
      rgb[i + 2] = disc ? 70 : Math.round(((x + y + 17 * seed) % S) * (255 / S));
    }
  return { png: squarePng(S, rgb), rgb };
}

async function openModel(page: Page, ep: string, id: string, extra = ''): Promise<void> {
  await page.goto(`./?ep=${ep}&model=${id}${extra}`);
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', /ready|error/, {
    timeout: 120_000 * SCALE,
  });
  const err = page.getByTestId('model-error');
  if (await err.count()) throw new Error(`the app could not load ${id}: ${await err.textContent()}`);
  await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', id);
  await expect(page.getByTestId('app')).toHaveAttribute('data-provider', ep);
}

interface Parity {
  maxDeltaCos: number;
  idsDiffer: number;
  idsTotal: number;
}

/**
 * Drops the pictures, sets the prompts, compares every card with the node reference: VQ ids (identical, or
 * at most TOKLIP_PARITY_MAX_ID_MISMATCH of them), then the cosines, the node side embedding the app's ids so
 * that a VQ near-tie does not blur the semantic/text encoders' comparison.
 */
async function checkParity(page: Page, id: string, m: Manifest, seeds: number[]): Promise<Parity> {
  const pics = seeds.map((s) => picture(m.image.size, s));
  const ref = new NodeReference(id, { dir: DIR, manifest: m });
  try {
    await page.getByTestId('prompts').fill(PROMPTS.join('\n'));
    await page
      .getByTestId('file-input')
      .setInputFiles(
        pics.map((p, i) => ({ name: `parity-${seeds[i]}.png`, mimeType: 'image/png', buffer: p.png })),
      );
    const E = m.embed_dim;
    const { w } = m.grid;
    const text = await ref.text(PROMPTS);
    const r: Parity = { maxDeltaCos: 0, idsDiffer: 0, idsTotal: 0 };
    for (const [i, seed] of seeds.entries()) {
      const name = `parity-${seed}.png`;
      const want = await ref.vqIds(pics[i]!.rgb);
      const card = page.locator(`[data-testid="image-card"][data-name="${name}"]`);
      await expect(card, `${name} finished`).toHaveAttribute('data-status', 'done', {
        timeout: 60_000 * SCALE,
      });
      await expect(card).toHaveAttribute('data-prompts', JSON.stringify(PROMPTS), {
        timeout: 60_000 * SCALE,
      });
      const got = Int32Array.from((JSON.parse((await card.getAttribute('data-ids'))!) as number[][]).flat());
      expect(got.length, `${id} ${name}: number of ids`).toBe(want.length);
      const differ = [...got.keys()].filter((k) => got[k] !== want[k]);
      r.idsDiffer += differ.length;
      r.idsTotal += want.length;
      const where = differ
        .map((k) => `(${Math.floor(k / w)},${k % w}) app ${got[k]} node ${want[k]}`)
        .join(', ');
      expect(
        differ.length,
        `${id} ${name}: ${differ.length} of ${want.length} VQ ids differ [${where}]; allowed ` +
          `${MAX_ID_MISMATCH * 100} % (TOKLIP_PARITY_MAX_ID_MISMATCH)`,
      ).toBeLessThanOrEqual(Math.floor(MAX_ID_MISMATCH * want.length));

      const img = await ref.image(got);
      const cosines = JSON.parse((await card.getAttribute('data-cosines'))!) as number[];
      expect(cosines.length).toBe(PROMPTS.length);
      cosines.forEach((c, p) => {
        let node = 0;
        for (let k = 0; k < E; k++) node += img[k]! * text[p * E + k]!;
        const d = Math.abs(c - node);
        r.maxDeltaCos = Math.max(r.maxDeltaCos, d);
        expect(d, `${id} ${name} "${PROMPTS[p]}": app ${c}, onnxruntime-node ${node}`).toBeLessThanOrEqual(
          1e-3,
        );
      });
    }
    return r;
  } finally {
    await ref.release();
  }
}

const report = (id: string, where: string, r: Parity) =>
  console.log(
    `parity ${id} ${where}: VQ ids differing ${r.idsDiffer}/${r.idsTotal}, max |Δcos| ${r.maxDeltaCos.toExponential(3)}`,
  );

async function expectFacts(page: Page, m: Manifest, mode: 'whole' | 'range' | null): Promise<void> {
  const facts = page.getByTestId('model-facts');
  if (m.variant) await expect(facts).toHaveAttribute('data-dtype', m.variant.dtype);
  if (mode) await expect(facts).toHaveAttribute('data-table-mode', mode);
  if (m.memory?.peak_estimate_bytes !== undefined) await expect(facts).toContainText('peak estimate');
}

/** Opens `id` on `ep`, checks the facts it shows, then the parity of `seeds`' pictures with the node reference. */
async function openAndCheckParity(
  page: Page,
  request: APIRequestContext,
  ep: string,
  id: string,
  opts: { range: boolean; seeds: number[] },
): Promise<void> {
  const m = await requireFolder(request, id);
  await openModel(page, ep, id, opts.range ? '&table=range' : '');
  await expectFacts(page, m, opts.range ? 'range' : tableMode(m));
  report(id, `${ep}${opts.range ? ' (table by range)' : ''}`, await checkParity(page, id, m, opts.seeds));
}

test.describe('official layout: the app matches onnxruntime-node on the same folder', () => {
  for (const [index, id] of MODELS.entries()) {
    const range = index % 2 === 1;
    test(`${id}${range ? ' (table rows by HTTP Range)' : ''}: ids and cosines on WASM`, async ({
      page,
      ep,
      request,
      consoleErrors,
    }, info) => {
      test.skip(ep !== 'wasm', 'WASM here; the @webgpu test runs one model on WebGPU');
      test.setTimeout(info.timeout * SCALE);
      await openAndCheckParity(page, request, ep, id, { range, seeds: [0, 1] });
      expect(consoleErrors).toEqual([]);
    });
  }

  test(`${WEBGPU_MODEL}: ids and cosines on WebGPU @webgpu`, async ({
    page,
    ep,
    request,
    consoleErrors,
  }, info) => {
    test.skip(ep !== 'webgpu', 'runs on the webgpu project');
    test.setTimeout(info.timeout * SCALE);
    await openAndCheckParity(page, request, ep, WEBGPU_MODEL, { range: false, seeds: [0] });
    await expect(page.getByTestId('provider-notice')).toHaveCount(0);
    expect(consoleErrors).toEqual([]);
  });
});

// ---- official preprocessing, end to end -------------------------------------------------------------------

const CORPUS = resolve(ROOT, process.env.TOKLIP_PREPROCESS_CORPUS ?? 'models/.cache/preprocess-corpus');
/** Corpus PNGs of many shapes and Pillow modes (photos, partial alpha, palette + tRNS, LA, 2-bit grey, 1×1 …). */
const E2E_PNGS = [
  'photo00-640x480.png',
  'photo05-513x300.png',
  'photo11-199x401.png',
  'odd-97x61.png',
  'tall-5x300.png',
  'rgba-partial-300x211.png',
  'p8-trns-140x100.png',
  'la-123x77.png',
  'l2bit-45x33.png',
  'one-64x40.png',
];
const E2E_PNGS_WEBGPU = ['photo01-301x200.png', 'rgba-partial-300x211.png'];

/** TokLIP's own pipeline on the same files: Pillow → torchvision transform → onnxruntime (toklip.tv_reference). */
function pythonReferenceIds(id: string, files: string[]): Record<string, number[]> {
  const missing = files.filter((f) => !existsSync(resolve(CORPUS, f)));
  if (missing.length) {
    throw new Error(
      `${missing.join(', ')} missing from ${CORPUS}: build the corpus with .venv/bin/python -m toklip.preprocess_corpus`,
    );
  }
  const out = execFileSync(
    resolve(ROOT, '.venv/bin/python'),
    ['-m', 'toklip.tv_reference', '--model', resolve(DIR, id), ...files.map((f) => resolve(CORPUS, f))],
    { encoding: 'utf8', cwd: ROOT },
  );
  return JSON.parse(out) as Record<string, number[]>;
}

async function checkPythonIds(page: Page, ep: string, request: APIRequestContext, files: string[]) {
  const id = MODELS[0]!;
  const m = await requireFolder(request, id);
  expect(m.image.preprocessing, `${id} is an official export`).toBe('official_toklip');
  const want = pythonReferenceIds(id, files);
  await openModel(page, ep, id, '&debug=providers');
  await expect(page.getByTestId('model-preprocessing')).toHaveAttribute('data-mode', 'official_toklip');
  await page.getByTestId('file-input').setInputFiles(files.map((f) => resolve(CORPUS, f)));
  let differ = 0;
  let total = 0;
  for (const f of files) {
    const card = page.locator(`[data-testid="image-card"][data-name="${f}"]`);
    await expect(card, `${f} finished`).toHaveAttribute('data-status', 'done', { timeout: 120_000 * SCALE });
    const got = (JSON.parse((await card.getAttribute('data-ids'))!) as number[][]).flat();
    expect(got.length, `${f}: number of ids`).toBe(want[f]!.length);
    const bad = got.filter((v, k) => v !== want[f]![k]).length;
    differ += bad;
    total += got.length;
    expect(got, `${f}: VQ ids, app (${ep}) vs Pillow → torchvision → onnxruntime`).toEqual(want[f]);
  }
  console.log(
    `official preprocessing ${id} ${ep}: ${differ}/${total} VQ ids differ over ${files.length} PNGs`,
  );
  // The provider the ids came from really ran the graphs (not a silent CPU fallback inside a WebGPU session).
  console.log((await expectPlacedOn(page, ep, ['vq_encoder', 'vq_decoder', 'semantic_encoder'])).join('\n'));
}

test.describe('official_toklip preprocessing: the app sees PNGs exactly as TokLIP does', () => {
  // SwiftShader WebGPU is ~100× slower than WASM: two pictures there, ten on WASM.
  for (const [provider, files, title] of [
    ['wasm', E2E_PNGS, 'PNGs of many shapes and modes on WASM'],
    ['webgpu', E2E_PNGS_WEBGPU, 'two PNGs on WebGPU @webgpu'],
  ] as const) {
    test(`VQ ids equal the Python reference: ${title}`, async ({
      page,
      ep,
      request,
      consoleErrors,
    }, info) => {
      test.skip(ep !== provider, `runs on the ${provider} project`);
      test.setTimeout(info.timeout * SCALE);
      await checkPythonIds(page, ep, request, [...files]);
      await expect(page.getByTestId('provider-notice')).toHaveCount(0);
      expect(consoleErrors).toEqual([]);
    });
  }
});

// ---- refusals --------------------------------------------------------------------------------------------

/** Serves models/<id>/… from the folder `from`, with its manifest edited. */
async function serveEdited(page: Page, id: string, from: string, edit: (m: Record<string, unknown>) => void) {
  await page.route(new RegExp(`/models/${id}/([^?]+)`), async (route: Route) => {
    const url = route.request().url();
    const response = await route.fetch({ url: url.replace(`/models/${id}/`, `/models/${from}/`) });
    if (!/\/manifest\.json(\?|$)/.test(url)) return route.fulfill({ response });
    const m = JSON.parse((await response.body()).toString('utf8')) as Record<string, unknown>;
    edit(m);
    await route.fulfill({ response, body: JSON.stringify(m) });
  });
}

/** The refusal names `parts`; the model in use stays and still processes a new picture. */
async function expectRefusedAndStillUsable(
  page: Page,
  id: string,
  inUse: string,
  parts: string[],
  S: number,
) {
  const err = page.getByTestId('model-load-error');
  await expect(err).toContainText(`The model “${id}” could not be loaded.`, { timeout: 60_000 * SCALE });
  for (const p of parts) await expect(err).toContainText(p);
  await expect(err).toContainText('Still using');
  await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', inUse);
  await page
    .getByTestId('file-input')
    .setInputFiles([{ name: `after-${id}.png`, mimeType: 'image/png', buffer: picture(S, 2).png }]);
  await expect(page.locator(`[data-testid="image-card"][data-name="after-${id}.png"]`)).toHaveAttribute(
    'data-status',
    'done',
    { timeout: 60_000 * SCALE },
  );
}

test.describe('variants this browser cannot run are refused politely; the model in use keeps working', () => {
  test('WASM: an fp16 (WebGPU-only) folder opens its int8 sibling, alone it is refused, as is a model too large for the WASM heap', async ({
    page,
    ep,
    request,
    consoleErrors,
  }, info) => {
    test.skip(ep !== 'wasm', 'WASM refusals');
    test.setTimeout(info.timeout * SCALE);
    const inUse = MODELS[MODELS.length - 1]!;
    const m = await requireFolder(request, inUse);
    const refused = await requireFolder(request, REFUSED_MODEL);
    expect(refused.variant?.providers, `${REFUSED_MODEL} should be a WebGPU-only export`).not.toContain(
      'wasm',
    );
    await openModel(page, ep, inUse);
    await page
      .getByTestId('file-input')
      .setInputFiles([{ name: 'before.png', mimeType: 'image/png', buffer: picture(m.image.size, 3).png }]);
    await expect(page.locator('[data-testid="image-card"][data-name="before.png"]')).toHaveAttribute(
      'data-status',
      'done',
      { timeout: 60_000 * SCALE },
    );

    // The same export without its `variants` (a folder copied alone): refused, and told what to export.
    await serveEdited(page, 'fp16-alone', REFUSED_MODEL, (x) => delete x.variants);
    await loadFolder(page, 'fp16-alone');
    await expectRefusedAndStillUsable(
      page,
      'fp16-alone',
      inUse,
      [
        'runs on WebGPU only (variant.providers), but the app is using WASM',
        'Export a variant that can',
        'File: manifest.json',
      ],
      m.image.size,
    );

    const need = 5 * 2 ** 30;
    await serveEdited(page, 'too-big-for-wasm', inUse, (x) => {
      (x.memory as Record<string, unknown>).peak_estimate_bytes = need;
      delete x.variants; // its siblings are real folders that run: the app would open one of them instead
    });
    await loadFolder(page, 'too-big-for-wasm');
    const table = tableMode(m) === 'whole' ? m.text.embedding_table!.bytes : 0;
    await expectRefusedAndStillUsable(
      page,
      'too-big-for-wasm',
      inUse,
      [`needs about ${bytesText(need + table)} on WASM`, `more than the ${bytesText(WASM_HEAP_LIMIT_BYTES)}`],
      m.image.size,
    );
    await expect(page.locator('[data-testid="image-card"][data-name="before.png"]')).toHaveAttribute(
      'data-status',
      'done',
    );

    // With `variants` (several dtypes exported together) the best sibling WASM runs is opened instead: int8.
    const int8 = refused.variants?.find((v) => v.dtype === 'int8');
    expect(int8, `${REFUSED_MODEL} should list an int8 sibling in manifest.variants`).toBeTruthy();
    const sibling = int8!.path.split('/').filter(Boolean).pop()!;
    await loadFolder(page, REFUSED_MODEL);
    await expect(page.getByTestId('model-variant-note')).toContainText(
      'runs on WebGPU only (variant.providers)',
      { timeout: 60_000 * SCALE },
    );
    await expect(page.getByTestId('model-variant-note')).toContainText('Opened its int8 export instead.');
    await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', sibling);
    await expect(page.getByTestId('model-source')).toContainText(`/models/${sibling}/`);
    await page
      .getByTestId('file-input')
      .setInputFiles([{ name: 'switched.png', mimeType: 'image/png', buffer: picture(m.image.size, 4).png }]);
    await expect(page.locator('[data-testid="image-card"][data-name="switched.png"]')).toHaveAttribute(
      'data-status',
      'done',
      { timeout: 60_000 * SCALE },
    );
    expect(consoleErrors).toEqual([]);
  });

  test('WebGPU: a feature the adapter lacks and a tensor larger than its buffers @webgpu', async ({
    page,
    ep,
    request,
    consoleErrors,
  }, info) => {
    test.skip(ep !== 'webgpu', 'WebGPU refusals (SwiftShader has no shader-f16)');
    test.setTimeout(info.timeout * SCALE);
    const inUse = WEBGPU_MODEL;
    const m = await requireFolder(request, inUse);
    const refused = await requireFolder(request, REFUSED_MODEL);
    const feature = refused.variant?.requires?.[0];
    expect(feature, `${REFUSED_MODEL} should require a WebGPU feature`).toBeTruthy();
    await openModel(page, ep, inUse);

    await serveEdited(page, 'fp16-alone', REFUSED_MODEL, (x) => delete x.variants);
    await loadFolder(page, 'fp16-alone');
    await expectRefusedAndStillUsable(
      page,
      'fp16-alone',
      inUse,
      [`needs the WebGPU feature "${feature}" (variant.requires)`, 'which this adapter'],
      m.image.size,
    );

    const huge = 2 ** 40; // 1 TiB: beyond any device's maxBufferSize
    await serveEdited(page, 'tensor-too-big', inUse, (x) => {
      (x.memory as Record<string, unknown>).largest_tensor_bytes = huge;
      delete x.variants;
    });
    await loadFolder(page, 'tensor-too-big');
    await expectRefusedAndStillUsable(
      page,
      'tensor-too-big',
      inUse,
      [`largest weight tensor is ${bytesText(huge)}`, 'more than this WebGPU device can hold in one buffer'],
      m.image.size,
    );
    expect(consoleErrors).toEqual([]);
  });
});
