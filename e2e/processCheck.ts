/**
 * One picture through the app, checked against onnxruntime-node on the same model folder (as the smoke test
 * does): an S×S picture so every value is compared from the pixels on — VQ ids exactly, PSNR within 0.01 dB,
 * the embedding within 1e-4 per component, prompt cosines within 1e-4.
 */
import { expect, type Page } from '@playwright/test';
import { DEFAULT_MODEL_ID } from '../src/config/models';
import { cosines, NodeReference, squarePicture } from './nodeReference';

export async function processAndCompare(page: Page, index: number, seed: number): Promise<void> {
  const ref = new NodeReference(DEFAULT_MODEL_ID);
  try {
    const S = ref.manifest.image.size;
    const pic = squarePicture(S, seed);
    await page
      .getByTestId('file-input')
      .setInputFiles([{ name: `hosted-${seed}.png`, mimeType: 'image/png', buffer: pic.png }]);
    const card = page.getByTestId('image-card').nth(index);
    await expect(card).toHaveAttribute('data-status', 'done');
    await expect(card).toHaveAttribute('data-cosines', /\[/);
    const attr = async <T>(name: string): Promise<T> => JSON.parse((await card.getAttribute(name))!) as T;

    const ids = Int32Array.from((await attr<number[][]>('data-ids')).flat());
    expect(Array.from(ids), 'VQ ids vs onnxruntime-node').toEqual(Array.from(await ref.vqIds(pic.rgb)));
    const want = await ref.reconstruction(pic.rgb, ids);
    const psnr = Number(await card.getAttribute('data-psnr'));
    expect(Math.abs(psnr - want.psnr), `PSNR ${psnr} vs ${want.psnr} dB`).toBeLessThanOrEqual(0.01);

    const node = await ref.image(ids);
    const embedding = await attr<number[]>('data-embedding');
    expect(embedding.length).toBe(ref.manifest.embed_dim);
    const worst = Math.max(...embedding.map((v, k) => Math.abs(v - node[k]!)));
    expect(worst, 'largest embedding difference vs onnxruntime-node').toBeLessThanOrEqual(1e-4);

    const prompts = await attr<string[]>('data-prompts');
    const wantCos = cosines(node, await ref.text(prompts), ref.manifest.embed_dim);
    const got = await attr<number[]>('data-cosines');
    expect(got.length).toBe(prompts.length);
    got.forEach((c, k) => expect(Math.abs(c - wantCos[k]!), `"${prompts[k]}"`).toBeLessThanOrEqual(1e-4));
  } finally {
    await ref.release();
  }
}
