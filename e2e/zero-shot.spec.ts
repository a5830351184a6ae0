/**
 * Zero-shot classification (WASM): a labelled folder built from the model's bundled samples (each sample and its
 * mirror image under a sub-folder named after the sample) goes in through the directory picker; the accuracy and
 * confusion matrix the app shows must equal what onnxruntime-node computes from the app's own ids of each file
 * and the folder's labels. A sample in the gallery gets its top-5 over a user label list, softmax and sigmoid
 * checked against the same reference.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { DEFAULT_MODEL_ID } from '../src/config/models';
import { cosines, MODELS_DIR, NodeReference } from './nodeReference';
import { expect, openApp, samplesInBuild, test } from './fixtures';

/** A folder name from a sample's title ("Photo: x" → "a photo of x"); path separators and the like dropped. */
function labelOf(title: string): string {
  return title
    .replace(/^Photo:\s*/, 'a photo of ')
    .replace(/[\\/:*?"<>|]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The sample mirrored left-right, as PNG bytes, drawn by the browser (only an input: the app decodes it again). */
async function mirroredPng(page: Page, url: string): Promise<Buffer> {
  const bytes = await page.evaluate(async (u) => {
    const bmp = await createImageBitmap(await (await fetch(u)).blob());
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d')!;
    ctx.scale(-1, 1);
    ctx.drawImage(bmp, -bmp.width, 0);
    const blob = await c.convertToBlob({ type: 'image/png' });
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  }, url);
  return Buffer.from(bytes);
}

const softmax = (xs: number[]) => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
};
const argmax = (xs: number[]) => xs.reduce((best, v, i) => (v > xs[best]! ? i : best), 0);

test('zero-shot: a labelled folder’s accuracy and confusion matrix equal onnxruntime-node’s', async ({
  page,
  ep,
  consoleErrors,
}) => {
  test.skip(ep !== 'wasm', 'zero-shot runs the same graphs on both providers; the WASM project covers it');
  const n = samplesInBuild();
  expect(n, 'the model folder bundles at least two samples (manifest.samples)').toBeGreaterThanOrEqual(2);
  await openApp(page, ep);
  const ref = new NodeReference(DEFAULT_MODEL_ID);
  const m = ref.manifest;
  const E = m.embed_dim;
  const root = mkdtempSync(join(tmpdir(), 'toklip-zs-'));
  try {
    // The folder: <root>/samples/<label>/{sample, mirrored sample}
    const folder = join(root, 'samples');
    const labels: string[] = [];
    for (const s of m.samples!) {
      const label = labelOf(s.title);
      labels.push(label);
      const dir = join(folder, label);
      mkdirSync(dir, { recursive: true });
      const name = s.file.split('/').pop()!;
      copyFileSync(resolve(MODELS_DIR, DEFAULT_MODEL_ID, s.file), join(dir, name));
      const url = new URL(`models/${DEFAULT_MODEL_ID}/${s.file}`, page.url()).href;
      writeFileSync(join(dir, `mirrored-${name.replace(/\.\w+$/, '')}.png`), await mirroredPng(page, url));
    }
    expect(new Set(labels).size, 'one label per sample').toBe(labels.length);

    const panel = page.getByTestId('zeroshot');
    await panel.getByTestId('zs-toggle').click();
    await panel.getByTestId('zs-folder-input').setInputFiles(folder);
    const result = panel.getByTestId('zs-folder');
    await expect(result).toHaveAttribute('data-state', 'done');

    const appLabels = JSON.parse((await result.getAttribute('data-labels'))!) as string[];
    expect([...appLabels].sort(), 'the sub-folder names are the labels').toEqual([...labels].sort());
    const rows = panel.getByTestId('zs-folder-item');
    await expect(rows).toHaveCount(2 * labels.length);

    // Reference: the folder labels through the text tower, each file's own ids through the semantic encoder.
    const text = await ref.text(appLabels);
    const K = appLabels.length;
    const want = Array.from({ length: K }, () => new Array<number>(K).fill(0));
    let correct = 0;
    for (const row of await rows.all()) {
      await expect(row).toHaveAttribute('data-status', 'done');
      const truth = Number(await row.getAttribute('data-truth'));
      const path = (await row.getAttribute('data-path'))!;
      expect(appLabels[truth], `${path}: its label is its sub-folder`).toBe(path.split('/')[1]);
      const ids = Int32Array.from(JSON.parse((await row.getAttribute('data-ids'))!) as number[]);
      const cos = cosines(await ref.image(ids), text, E);
      const pred = argmax(cos);
      const sorted = [...cos].sort((a, b) => b - a);
      expect(sorted[0]! - sorted[1]!, `${path}: the top two labels are not a float tie`).toBeGreaterThan(
        1e-5,
      );
      expect(Number(await row.getAttribute('data-pred')), `${path}: predicted label`).toBe(pred);
      want[truth]![pred]!++;
      if (pred === truth) correct++;
    }
    const acc = JSON.parse((await result.getAttribute('data-accuracy'))!) as {
      correct: number;
      total: number;
    };
    expect(acc).toEqual({ correct, total: 2 * labels.length });
    await expect(result.getByTestId('zs-accuracy')).toContainText(`${correct} of ${2 * labels.length}`);
    const confusion = result.getByTestId('zs-confusion');
    expect(JSON.parse((await confusion.getAttribute('data-matrix'))!)).toEqual(want);
    // the table itself (what a person or a screen reader reads): counts row by row, the diagonal marked in text
    const cells = (await confusion.getByTestId('zs-cell').allTextContents()).map((t) => t.trim());
    expect(cells).toEqual(want.flatMap((r, t) => r.map((v, p) => (p === t && v ? `${v} ✓` : `${v}`))));
    await expect(confusion.getByRole('rowheader')).toHaveText(appLabels);

    // A sample in the gallery, classified over a user label list: top-5 softmax and sigmoid vs the reference.
    // the app drops repeated lines (two sample titles are default prompts too)
    const userLabels = [...new Set([...m.default_prompts, ...labels])];
    await panel.getByRole('radio', { name: 'Your labels' }).check();
    await panel.getByTestId('zs-user-labels').fill(userLabels.join('\n'));
    await expect(panel.getByTestId('zs-results')).toHaveAttribute(
      'data-labels-count',
      String(userLabels.length),
    );
    await page.getByTestId('samples').getByRole('button').first().click();
    const card = page.getByTestId('image-card').first();
    await expect(card).toHaveAttribute('data-status', 'done');
    const ids = Int32Array.from((JSON.parse((await card.getAttribute('data-ids'))!) as number[][]).flat());
    const cos = cosines(await ref.image(ids), await ref.text(userLabels), E);
    const sm = softmax(cos.map((c) => m.logit_scale * c));
    const order = cos.map((_, i) => i).sort((a, b) => cos[b]! - cos[a]! || a - b);
    const top = panel.getByTestId('zs-image').first().getByTestId('zs-top');
    await expect(top).toHaveAttribute('data-top', /\[/);
    const shown = JSON.parse((await top.getAttribute('data-top'))!) as {
      index: number;
      cos: number;
      softmax: number;
      sigmoid: number;
    }[];
    expect(
      shown.map((p) => p.index),
      'top-5 labels in the reference’s order',
    ).toEqual(order.slice(0, 5));
    for (const p of shown) {
      expect(Math.abs(p.cos - cos[p.index]!)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(p.softmax - sm[p.index]!)).toBeLessThanOrEqual(1e-5);
      const sig = 1 / (1 + Math.exp(-(m.logit_scale * cos[p.index]! + m.logit_bias)));
      expect(Math.abs(p.sigmoid - sig)).toBeLessThanOrEqual(1e-6);
    }
    await result.locator('details').evaluate((d: HTMLDetailsElement) => (d.open = true));
    await panel.screenshot({ path: `e2e/artifacts/${ep}-zero-shot.png` });
    expect(consoleErrors).toEqual([]);
  } finally {
    await ref.release();
    rmSync(root, { recursive: true, force: true });
  }
});
