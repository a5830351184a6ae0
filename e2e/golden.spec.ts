/**
 * Golden comparison with the Python toolkit (models/toklip/golden.py runs the same ONNX graphs with
 * onnxruntime on the CPU): drop the fixture images, set the golden prompts, and compare everything the app
 * shows (read from the cards' and the image matrix's data-* attributes, the same values as the JSON export)
 * with Python's numbers, each within a tolerance on its own scale:
 *   ids                    exactly
 *   PSNR                   0.01 dB
 *   SSIM                   1e-4 (of a [-1, 1] index; the same Gaussian-window SSIM on both sides)
 *   embedding              1e-4 per component of the unit vector, and cosine with Python's ≥ 1 − 1e-5
 *   prompt cosines         1e-4, and the prompt ranking equal
 *   teacher cosines        1e-4
 *   probabilities          as logits, within logit_scale × 1e-4 (the cosine tolerance through the sigmoid:
 *                          this model's probabilities are mostly below 1 %, where an absolute tolerance says nothing)
 *   image × image cosines  1e-4
 * Measured (2026-11-29, TokLIP-Tiny): every deviation below 4e-7 (PSNR 2e-5 dB) on WASM and on WebGPU
 * (SwiftShader), so each bound leaves a margin of more than 100× while a wrong constant, input or formula
 * moves these values by 1e-2 or more. The test prints the largest deviation of each kind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { GRAPH_ROLES } from '../src/lib/manifest';
import { expect, openApp, test } from './fixtures';
import { cosines, NodeReference } from './nodeReference';
import { expectPlacedOn } from './placements';

interface GoldenImage {
  file: string;
  ids: number[][];
  recon_psnr_db: number;
  recon_ssim: number;
  embedding: number[];
  cosines: number[];
  probabilities: number[];
  ranking: number[];
  teacher_cosines?: number[];
}
interface Golden {
  model_id: string;
  prompts: string[];
  images: GoldenImage[];
  image_image_cos: number[][];
}

const TOL = { psnrDb: 0.01, ssim: 1e-4, embedding: 1e-4, embeddingCos: 1e-5, cosine: 1e-4, matrix: 1e-4 };

const FIXTURES = resolve(import.meta.dirname, 'fixtures/toklip-tiny');
const GOLDEN_FILE = resolve(FIXTURES, 'golden.json');

function readGoldenFile(): Golden {
  if (!existsSync(GOLDEN_FILE)) {
    throw new Error(
      'e2e/fixtures/toklip-tiny/golden.json is missing: it is written by the Python side (toklip-golden)',
    );
  }
  return JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Golden;
}

function readManifest(id: string): { logit_scale: number; files: { role: string }[] } {
  return JSON.parse(
    readFileSync(resolve(import.meta.dirname, '../public/models', id, 'manifest.json'), 'utf8'),
  );
}

const logit = (p: number) => Math.log(p) - Math.log1p(-p);

/** Largest deviation seen per quantity, printed at the end: what the tolerances are measured against. */
type Worst = Record<string, number>;
function note(worst: Worst, key: string, d: number): number {
  worst[key] = Math.max(worst[key] ?? 0, d);
  return d;
}

function attr<T>(json: string | null, what: string): T {
  expect(json, `${what} is shown (data-* attribute)`).not.toBeNull();
  return JSON.parse(json!) as T;
}

async function runGolden(page: Page, ep: string, images: GoldenImage[], golden: Golden, extra = '') {
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await openApp(page, ep, `&model=${golden.model_id}${extra}`);
  const manifest = readManifest(golden.model_id);
  const worst: Worst = {};

  await page.getByTestId('prompts').fill(golden.prompts.join('\n'));
  await page.getByTestId('file-input').setInputFiles(images.map((im) => resolve(FIXTURES, im.file)));

  for (const g of images) {
    const card = page.locator(`[data-testid="image-card"][data-name="${g.file}"]`);
    await expect(card, `${g.file} finished`).toHaveAttribute('data-status', 'done');
    await expect(card).toHaveAttribute('data-prompts', JSON.stringify(golden.prompts));

    const ids = attr<number[][]>(await card.getAttribute('data-ids'), `${g.file}: ids`);
    expect(ids, `${g.file}: id grid`).toEqual(g.ids);

    const psnr = Number(await card.getAttribute('data-psnr'));
    expect(
      note(worst, 'PSNR dB', Math.abs(psnr - g.recon_psnr_db)),
      `${g.file}: PSNR ${psnr} vs ${g.recon_psnr_db} dB`,
    ).toBeLessThanOrEqual(TOL.psnrDb);
    const ssim = attr<number>(await card.getAttribute('data-ssim'), `${g.file}: SSIM`);
    expect(
      note(worst, 'SSIM', Math.abs(ssim - g.recon_ssim)),
      `${g.file}: SSIM ${ssim} vs ${g.recon_ssim}`,
    ).toBeLessThanOrEqual(TOL.ssim);

    const emb = attr<number[]>(await card.getAttribute('data-embedding'), `${g.file}: embedding`);
    expect(emb.length, `${g.file}: embedding width`).toBe(g.embedding.length);
    const maxDelta = Math.max(...emb.map((v, i) => Math.abs(v - g.embedding[i]!)));
    expect(
      note(worst, 'embedding component', maxDelta),
      `${g.file}: largest embedding difference`,
    ).toBeLessThanOrEqual(TOL.embedding);
    const dot = emb.reduce((a, v, i) => a + v * g.embedding[i]!, 0);
    expect(
      note(worst, '1 - embedding cosine', 1 - dot),
      `${g.file}: cosine with Python's embedding ${dot}`,
    ).toBeLessThanOrEqual(TOL.embeddingCos);

    const cosines = attr<number[]>(await card.getAttribute('data-cosines'), `${g.file}: cosines`);
    expect(cosines.length).toBe(g.cosines.length);
    cosines.forEach((c, i) =>
      expect(
        note(worst, 'prompt cosine', Math.abs(c - g.cosines[i]!)),
        `${g.file}: cosine for "${golden.prompts[i]}" ${c} vs ${g.cosines[i]}`,
      ).toBeLessThanOrEqual(TOL.cosine),
    );
    const ranking = attr<number[]>(await card.getAttribute('data-ranking'), `${g.file}: ranking`);
    expect(ranking, `${g.file}: prompt ranking`).toEqual(g.ranking);

    const probs = attr<number[]>(await card.getAttribute('data-probabilities'), `${g.file}: probabilities`);
    expect(probs.length).toBe(g.probabilities.length);
    probs.forEach((p, i) =>
      expect(
        note(worst, 'probability logit', Math.abs(logit(p) - logit(g.probabilities[i]!))),
        `${g.file}: probability for "${golden.prompts[i]}" ${p} vs ${g.probabilities[i]} (compared as logits)`,
      ).toBeLessThanOrEqual(manifest.logit_scale * TOL.cosine),
    );

    expect(
      g.teacher_cosines,
      `${golden.model_id} has a teacher: golden.json must hold its cosines`,
    ).toBeDefined();
    const teacher = attr<number[]>(
      await card.getAttribute('data-teacher-cosines'),
      `${g.file}: teacher cosines`,
    );
    expect(teacher.length).toBe(g.teacher_cosines!.length);
    teacher.forEach((c, i) =>
      expect(
        note(worst, 'teacher cosine', Math.abs(c - g.teacher_cosines![i]!)),
        `${g.file}: teacher cosine for "${golden.prompts[i]}" ${c} vs ${g.teacher_cosines![i]}`,
      ).toBeLessThanOrEqual(TOL.cosine),
    );
  }

  // The image × image matrix, in the order the images were given (Python's order).
  if (images.length >= 2) {
    const matrix = page.getByTestId('image-image-matrix');
    expect(attr<string[]>(await matrix.getAttribute('data-names'), 'image matrix names')).toEqual(
      images.map((im) => im.file),
    );
    const got = attr<number[][]>(await matrix.getAttribute('data-cosines'), 'image × image cosines');
    const index = images.map((im) => golden.images.findIndex((x) => x.file === im.file));
    expect(got.length).toBe(images.length);
    got.forEach((row, i) =>
      row.forEach((c, j) => {
        const want = golden.image_image_cos[index[i]!]![index[j]!]!;
        expect(
          note(worst, 'image×image cosine', Math.abs(c - want)),
          `image matrix ${images[i]!.file} × ${images[j]!.file}: ${c} vs ${want}`,
        ).toBeLessThanOrEqual(TOL.matrix);
      }),
    );
  }
  console.log(
    `golden ${ep}: largest deviations ` +
      Object.entries(worst)
        .map(([k, v]) => `${k} ${v.toExponential(2)}`)
        .join(', '),
  );

  const origin = new URL(page.url()).origin;
  const foreign = requests.filter(
    (u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'),
  );
  expect(foreign, 'requests to other origins').toEqual([]);
  await expect(page.getByTestId('provider-notice')).toHaveCount(0);
  return manifest.files.map((f) => f.role).filter((r) => (GRAPH_ROLES as readonly string[]).includes(r));
}

test.describe('golden fixtures from Python', () => {
  test('all fixture images match Python (ids, PSNR, SSIM, embeddings, cosines, probabilities, matrix)', async ({
    page,
    ep,
    consoleErrors,
  }) => {
    test.skip(ep !== 'wasm', 'the full set runs on WASM; WebGPU runs the @webgpu subset');
    const golden = readGoldenFile();
    const roles = await runGolden(page, ep, golden.images, golden, '&debug=providers');
    console.log((await expectPlacedOn(page, ep, roles)).join('\n'));

    await page.screenshot({ path: `e2e/artifacts/${ep}-overview.png`, fullPage: true });
    const first = page.getByTestId('image-card').first();
    await first.screenshot({ path: `e2e/artifacts/${ep}-card.png` });
    await first
      .getByRole('region', { name: 'Tokens', exact: true })
      .screenshot({ path: `e2e/artifacts/${ep}-tokens.png` });
    await first
      .getByRole('region', { name: 'Reconstruction from the tokens' })
      .screenshot({ path: `e2e/artifacts/${ep}-reconstruction-similarity.png` });
    const matrices = page.getByRole('region', { name: 'Similarity across images' });
    await matrices.screenshot({ path: `e2e/artifacts/${ep}-matrices.png` });
    expect(consoleErrors).toEqual([]);
  });

  test('two fixture images and a prompt edit match Python / onnxruntime-node, every graph on the forced provider @webgpu', async ({
    page,
    ep,
    consoleErrors,
  }) => {
    test.skip(ep === 'wasm', 'covered on WASM by the full-set test');
    const golden = readGoldenFile();
    // Two images: the image × image matrix is compared too.
    const roles = await runGolden(page, ep, golden.images.slice(0, 2), golden, '&debug=providers');
    // Where onnxruntime really ran each graph (the provider line says WebGPU even after a fallback).
    console.log((await expectPlacedOn(page, ep, roles)).join('\n'));

    // A prompt edit: one prompt changed, one added. The text encoder runs again on WebGPU, and every card's
    // cosines must follow: compared with onnxruntime-node's text embeddings of the new prompts against the
    // card's own image embedding (itself compared with Python's above).
    const t0 = Date.now();
    const edited = [...golden.prompts.slice(1), 'a drawing of a small dog', 'an emoji of a red car'];
    await page.getByTestId('prompts').fill(edited.join('\n'));
    const ref = new NodeReference(golden.model_id);
    try {
      const text = await ref.text(edited);
      const E = ref.manifest.embed_dim;
      for (const g of golden.images.slice(0, 2)) {
        const card = page.locator(`[data-testid="image-card"][data-name="${g.file}"]`);
        await expect(card, `${g.file}: scored against the edited prompts`).toHaveAttribute(
          'data-prompts',
          JSON.stringify(edited),
        );
        const want = cosines(attr<number[]>(await card.getAttribute('data-embedding'), 'embedding'), text, E);
        const got = attr<number[]>(await card.getAttribute('data-cosines'), `${g.file}: cosines`);
        expect(got.length).toBe(edited.length);
        got.forEach((c, i) =>
          expect(
            Math.abs(c - want[i]!),
            `${g.file} after the edit, "${edited[i]}": ${c} vs onnxruntime-node ${want[i]}`,
          ).toBeLessThanOrEqual(TOL.cosine),
        );
      }
    } finally {
      await ref.release();
    }
    console.log(`prompt edit re-embedded and checked in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await page
      .getByTestId('image-card')
      .first()
      .screenshot({ path: `e2e/artifacts/${ep}-golden-card.png` });
    expect(consoleErrors).toEqual([]);
  });
});
