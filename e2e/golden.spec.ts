/**
 * Golden comparison with the Python toolkit: drop the fixture images, set the golden prompts, and compare what
 * the app shows (read from the cards' data-* attributes, the same values as the JSON export) with Python's
 * numbers: ids exactly, PSNR within 0.1 dB, prompt ranking equal, cosines within 1e-3.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, openApp, test } from './fixtures';

interface GoldenImage {
  file: string;
  ids: number[][];
  recon_psnr_db: number;
  embedding: number[];
  cosines: number[];
  ranking: number[];
}
interface Golden {
  model_id: string;
  prompts: string[];
  images: GoldenImage[];
}

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

async function runGolden(page: Page, ep: string, images: GoldenImage[], golden: Golden) {
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await openApp(page, ep, `&model=${golden.model_id}`);

  await page.getByTestId('prompts').fill(golden.prompts.join('\n'));
  await page.getByTestId('file-input').setInputFiles(images.map((im) => resolve(FIXTURES, im.file)));

  for (const g of images) {
    const card = page.locator(`[data-testid="image-card"][data-name="${g.file}"]`);
    await expect(card, `${g.file} finished`).toHaveAttribute('data-status', 'done');
    await expect(card).toHaveAttribute('data-prompts', JSON.stringify(golden.prompts));

    const ids = JSON.parse((await card.getAttribute('data-ids'))!) as number[][];
    expect(ids, `${g.file}: id grid`).toEqual(g.ids);

    const psnr = Number(await card.getAttribute('data-psnr'));
    expect(
      Math.abs(psnr - g.recon_psnr_db),
      `${g.file}: PSNR ${psnr} vs ${g.recon_psnr_db} dB`,
    ).toBeLessThanOrEqual(0.1);

    const cosines = JSON.parse((await card.getAttribute('data-cosines'))!) as number[];
    expect(cosines.length).toBe(g.cosines.length);
    cosines.forEach((c, i) =>
      expect(
        Math.abs(c - g.cosines[i]!),
        `${g.file}: cosine for "${golden.prompts[i]}" ${c} vs ${g.cosines[i]}`,
      ).toBeLessThanOrEqual(1e-3),
    );
    const ranking = JSON.parse((await card.getAttribute('data-ranking'))!) as number[];
    expect(ranking, `${g.file}: prompt ranking`).toEqual(g.ranking);
  }

  const origin = new URL(page.url()).origin;
  const foreign = requests.filter(
    (u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'),
  );
  expect(foreign, 'requests to other origins').toEqual([]);
  await expect(page.getByTestId('provider-notice')).toHaveCount(0);
}

test.describe('golden fixtures from Python', () => {
  test('all fixture images match Python (ids, PSNR, cosines, ranking)', async ({
    page,
    ep,
    consoleErrors,
  }) => {
    test.skip(ep !== 'wasm', 'the full set runs on WASM; WebGPU runs the @webgpu subset');
    const golden = readGoldenFile();
    await runGolden(page, ep, golden.images, golden);

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

  test('first fixture image matches Python on the forced provider @webgpu', async ({
    page,
    ep,
    consoleErrors,
  }) => {
    test.skip(ep === 'wasm', 'covered on WASM by the full-set test');
    const golden = readGoldenFile();
    await runGolden(page, ep, golden.images.slice(0, 1), golden);
    await expect(page.getByTestId('provider-status')).toContainText(ep === 'webgpu' ? 'WebGPU' : 'WASM');
    await page
      .getByTestId('image-card')
      .first()
      .screenshot({ path: `e2e/artifacts/${ep}-golden-card.png` });
    expect(consoleErrors).toEqual([]);
  });
});
