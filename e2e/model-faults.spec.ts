/**
 * Model and runtime faults. Broken model folders are made on the fly with page.route: requests for
 * models/<broken-id>/<file> are answered with the bundled model's file, tampered (nothing broken is committed).
 * Each fault must give a clear error naming its cause and file, while the model already in use keeps working.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Page, Route } from '@playwright/test';
import { testPicture } from './png';
import { loadFolder, expectStillUsable } from './modelPanel';
import { expect, openApp, test } from './fixtures';

const BUNDLED = 'toklip-tiny';
const GOLDEN = resolve(import.meta.dirname, 'fixtures/toklip-tiny/golden.json');

type Tamper = (file: string, body: Buffer) => Buffer | number;

/** Serves models/<id>/… from the bundled folder through `tamper` (a number = answer with that HTTP status). */
async function serveTampered(page: Page, id: string, tamper: Tamper): Promise<void> {
  await page.route(new RegExp(`/models/${id}/([^?]+)`), async (route: Route) => {
    const url = route.request().url();
    const file = new RegExp(`/models/${id}/([^?]+)`).exec(url)![1]!;
    const response = await route.fetch({ url: url.replace(`/models/${id}/`, `/models/${BUNDLED}/`) });
    const out = tamper(file, await response.body());
    if (typeof out === 'number') {
      await route.fulfill({ status: out, contentType: 'text/plain', body: 'not found' });
    } else {
      await route.fulfill({ response, body: out });
    }
  });
}

function editManifest(edit: (m: Record<string, unknown>) => void): Tamper {
  return (file, body) => {
    if (file !== 'manifest.json') return body;
    const m = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    edit(m);
    return Buffer.from(JSON.stringify(m));
  };
}

test.describe('a broken model folder is refused, the model in use stays usable', () => {
  test.skip(({ ep }) => ep !== 'wasm', 'provider independent');

  const cases: { name: string; id: string; tamper: Tamper; expect: (string | RegExp)[] }[] = [
    {
      name: 'missing model file',
      id: 'broken-missing',
      tamper: (file, body) => (file === 'vq_decoder.onnx' ? 404 : body),
      expect: ['could not download vq_decoder.onnx: HTTP 404', 'File: vq_decoder.onnx'],
    },
    {
      name: 'sha256 mismatch',
      id: 'broken-sha',
      tamper: (file, body) => {
        if (file !== 'semantic_encoder.onnx') return body;
        const b = Buffer.from(body);
        const i = b.length >> 1;
        b[i] = b[i]! ^ 0x01; // one bit, same size
        return b;
      },
      expect: [
        /semantic_encoder\.onnx failed its integrity check: sha256 is [0-9a-f]{64}, the manifest says/,
      ],
    },
    {
      name: 'manifest with a wrong schema_version',
      id: 'broken-schema',
      tamper: editManifest((m) => (m.schema_version = 2)),
      expect: [
        'manifest.schema_version: this app reads schema version 1, the manifest has 2',
        'manifest.json',
      ],
    },
    {
      name: 'a grid that disagrees with the graphs',
      id: 'broken-grid',
      tamper: editManifest((m) => (m.grid = { h: 8, w: 8 })),
      expect: [
        'the manifest disagrees with its graphs',
        /vq_decoder\.onnx takes "ids" of shape \[B, 16, 16\]/,
        'grid 8×8',
      ],
    },
  ];

  for (const c of cases) {
    test(c.name, async ({ page, ep, consoleErrors }) => {
      await openApp(page, ep);
      await serveTampered(page, c.id, c.tamper);
      await expectStillUsable(page, 'before.png');
      await loadFolder(page, c.id);
      const err = page.getByTestId('model-load-error');
      await expect(err).toContainText(`The model “${c.id}” could not be loaded.`);
      for (const part of c.expect) await expect(err).toContainText(part);
      await expect(err).toContainText('Still using TokLIP');
      await expectStillUsable(page, 'after.png');
      // the image processed before the failed load is untouched
      await expect(page.locator('[data-testid="image-card"][data-name="before.png"]')).toHaveAttribute(
        'data-status',
        'done',
      );
      expect(consoleErrors.filter((e) => !/404|Failed to load resource/.test(e))).toEqual([]);
    });
  }
});

test('no WebGPU adapter: forced WebGPU falls back to WASM, says so, and works', async ({ page, ep }) => {
  test.skip(ep !== 'wasm', 'runs once');
  await page.addInitScript(() => {
    delete (Navigator.prototype as { gpu?: unknown }).gpu;
  });
  await page.goto('./?ep=webgpu');
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready', { timeout: 120_000 });
  await expect(page.getByTestId('app')).toHaveAttribute('data-provider', 'wasm');
  await expect(page.getByTestId('provider-status')).toContainText(
    'WebGPU was requested but no WebGPU adapter is available',
  );
  await page
    .getByTestId('file-input')
    .setInputFiles([{ name: 'nogpu.png', mimeType: 'image/png', buffer: testPicture(64, 64, 1) }]);
  await expect(page.getByTestId('image-card').first()).toHaveAttribute('data-status', 'done');
});

test('WebGPU device lost mid-run: falls back to WASM, says so, finishes the work correctly @webgpu', async ({
  page,
  ep,
}) => {
  test.skip(ep !== 'webgpu', 'needs WebGPU (SwiftShader here)');
  // A golden fixture image: after the fallback, what the card shows must still be what Python computes.
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as {
    model_id: string;
    prompts: string[];
    images: { file: string; ids: number[][]; recon_psnr_db: number; recon_ssim: number; cosines: number[] }[];
  };
  const g = golden.images[0]!;
  expect(golden.model_id).toBe(BUNDLED);
  await openApp(page, 'webgpu', '&debug=1');
  await page.getByTestId('prompts').fill(golden.prompts.join('\n'));
  await page.getByTestId('file-input').setInputFiles([resolve(dirname(GOLDEN), g.file)]);
  const card = page.getByTestId('image-card').first();
  await expect(card).toHaveAttribute('data-status', /tokenizing|reconstructing|embedding/);
  await page.evaluate(() =>
    (
      window as Window & { __toklipDebug?: { loseGpuDevice: () => Promise<unknown> } }
    ).__toklipDebug!.loseGpuDevice(),
  );
  await expect(page.getByTestId('provider-notice')).toContainText('the WebGPU device was lost');
  await expect(page.getByTestId('provider-notice')).toContainText('switched to WASM');
  await expect(page.getByTestId('app')).toHaveAttribute('data-provider', 'wasm');
  await expect(card).toHaveAttribute('data-status', 'done');
  await expect(card).toHaveAttribute('data-prompts', JSON.stringify(golden.prompts));
  // The same tolerances as the golden test (e2e/golden.spec.ts states them and the measured deviations).
  expect(JSON.parse((await card.getAttribute('data-ids'))!), 'ids after the fallback').toEqual(g.ids);
  const psnr = Number(await card.getAttribute('data-psnr'));
  expect(Math.abs(psnr - g.recon_psnr_db), `PSNR ${psnr} vs ${g.recon_psnr_db} dB`).toBeLessThanOrEqual(0.01);
  const ssim = Number(await card.getAttribute('data-ssim'));
  expect(Math.abs(ssim - g.recon_ssim), `SSIM ${ssim} vs ${g.recon_ssim}`).toBeLessThanOrEqual(1e-4);
  const cosines = JSON.parse((await card.getAttribute('data-cosines'))!) as number[];
  expect(cosines.length).toBe(g.cosines.length);
  cosines.forEach((c, i) =>
    expect(
      Math.abs(c - g.cosines[i]!),
      `cosine for "${golden.prompts[i]}" ${c} vs ${g.cosines[i]}`,
    ).toBeLessThanOrEqual(1e-4),
  );
});
