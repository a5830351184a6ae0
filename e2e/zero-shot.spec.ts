/**
 * Zero-shot classification (WASM): a labelled folder built from the model's bundled samples (each sample and its
 * mirror image under a sub-folder named after the sample) goes in through the directory picker; the accuracy and
 * confusion matrix the app shows must equal what onnxruntime-node computes from the app's own ids of each file
 * and the folder's labels. A sample in the gallery gets its top-5 over a user label list, softmax and sigmoid
 * checked against the same reference.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { DEFAULT_MODEL_ID } from '../src/config/models';
import { cosines, MODELS_DIR, NodeReference } from './nodeReference';
import { expect, openApp, samplesInBuild, test } from './fixtures';
import { dropFolder } from './modelPanel';

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
/**
 * The top-5 table shows the reference's top 5 (ranks compared where the reference's gaps exceed float noise), with
 * cos, softmax over all labels at logit_scale, and the sigmoid matching it.
 */
async function checkTop(top: Locator, cos: number[], scale: number, bias: number): Promise<void> {
  await expect(top).toHaveAttribute('data-top', /\[/);
  const sm = softmax(cos.map((c) => scale * c));
  const order = cos.map((_, i) => i).sort((a, b) => cos[b]! - cos[a]! || a - b);
  const shown = JSON.parse((await top.getAttribute('data-top'))!) as {
    index: number;
    cos: number;
    softmax: number;
    sigmoid: number;
  }[];
  expect(shown).toHaveLength(Math.min(5, cos.length));
  for (const [r, p] of shown.entries()) {
    const gap = r + 1 < order.length ? cos[order[r]!]! - cos[order[r + 1]!]! : Infinity;
    const prevGap = r === 0 ? Infinity : cos[order[r - 1]!]! - cos[order[r]!]!;
    if (gap > 1e-5 && prevGap > 1e-5) expect(p.index, `rank ${r + 1}`).toBe(order[r]);
    expect(Math.abs(p.cos - cos[p.index]!)).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(p.softmax - sm[p.index]!)).toBeLessThanOrEqual(1e-5);
    // The app's sigmoid of its own cosine: exact arithmetic, tight.
    expect(Math.abs(p.sigmoid - 1 / (1 + Math.exp(-(scale * p.cos + bias))))).toBeLessThanOrEqual(1e-9);
    // Against the reference, as logits within the cosine tolerance times the scale (as golden.spec does): an
    // absolute bound on p would be scale/4 times tighter than the cosine bound where p is near 0.5.
    const logit = Math.log(p.sigmoid) - Math.log1p(-p.sigmoid);
    expect(Math.abs(logit - (scale * cos[p.index]! + bias))).toBeLessThanOrEqual(scale * 1e-5);
  }
}

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
    // Samples of one concept in two styles share a sub-folder: a label with more than two images.
    const distinct = [...new Set(labels)];
    expect(distinct.length, 'at least two labels').toBeGreaterThanOrEqual(2);

    const panel = page.getByTestId('zeroshot');
    await panel.getByTestId('zs-toggle').click();
    await panel.getByTestId('zs-folder-input').setInputFiles(folder);
    const result = panel.getByTestId('zs-folder');
    await expect(result).toHaveAttribute('data-state', 'done');

    const appLabels = JSON.parse((await result.getAttribute('data-labels'))!) as string[];
    expect([...appLabels].sort(), 'the sub-folder names are the labels').toEqual([...distinct].sort());
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
    const image = await ref.image(ids);
    const top = panel.getByTestId('zs-image').first().getByTestId('zs-top');
    await checkTop(top, cosines(image, await ref.text(userLabels), E), m.logit_scale, m.logit_bias);

    // The model's own concepts (manifest.concepts): each embedded through its caption, shown by its name.
    const concepts = m.concepts ?? [];
    expect(concepts.length, 'the default model lists its held-out concepts').toBeGreaterThan(0);
    await panel.getByRole('radio', { name: /The model's concepts/ }).check();
    await expect(panel.getByTestId('zs-results')).toHaveAttribute(
      'data-labels-count',
      String(concepts.length),
    );
    const conceptCos = cosines(image, await ref.text(concepts.map((c) => c.prompt)), E);
    await checkTop(top, conceptCos, m.logit_scale, m.logit_bias);
    const first = JSON.parse((await top.getAttribute('data-top'))!) as { index: number }[];
    await expect(top.locator('tbody tr').first()).toContainText(concepts[first[0]!.index]!.name);

    await result.locator('details').evaluate((d: HTMLDetailsElement) => (d.open = true));
    await panel.screenshot({ path: `e2e/artifacts/${ep}-zero-shot.png` });
    expect(consoleErrors).toEqual([]);
  } finally {
    await ref.release();
    rmSync(root, { recursive: true, force: true });
  }
});

test('zero-shot: ImageNet-1k with template-averaged class embeddings matches onnxruntime-node', async ({
  page,
  ep,
  consoleErrors,
}) => {
  test.skip(ep !== 'wasm', 'zero-shot runs the same graphs on both providers; the WASM project covers it');
  // 7000 prompts through the text tower twice (app and reference): minutes on a shared 2-core machine
  test.setTimeout(540_000);
  await openApp(page, ep);
  const ref = new NodeReference(DEFAULT_MODEL_ID);
  const m = ref.manifest;
  const E = m.embed_dim;
  try {
    const labelset = JSON.parse(
      readFileSync(resolve(import.meta.dirname, '../public/labelsets/imagenet-1k.json'), 'utf8'),
    ) as { classes: string[]; templates: Record<string, string[]> };
    const templates = labelset.templates['simple']!;
    const panel = page.getByTestId('zeroshot');
    await panel.getByTestId('zs-toggle').click();
    await panel.getByRole('radio', { name: 'ImageNet-1k' }).check();
    await panel.getByTestId('zs-embed').click();
    await expect(panel.getByTestId('zs-progress').getByRole('progressbar')).toBeVisible();
    await expect(panel.getByTestId('zs-results')).toHaveAttribute('data-labels-count', '1000', {
      timeout: 400_000,
    });
    await page.getByTestId('samples').getByRole('button').first().click();
    const card = page.getByTestId('image-card').first();
    await expect(card).toHaveAttribute('data-status', 'done');
    const ids = Int32Array.from((JSON.parse((await card.getAttribute('data-ids'))!) as number[][]).flat());
    const image = await ref.image(ids);

    // Reference class embeddings: per class, the mean of its unit template embeddings, made unit again.
    const cos: number[] = [];
    const T = templates.length;
    for (let c0 = 0; c0 < labelset.classes.length; c0 += 10) {
      const classes = labelset.classes.slice(c0, c0 + 10);
      const rows = await ref.text(classes.flatMap((c) => templates.map((t) => t.replace('{}', c))));
      classes.forEach((_, k) => {
        const mean = new Array<number>(E).fill(0);
        for (let t = 0; t < T; t++) {
          const r = rows.subarray((k * T + t) * E, (k * T + t + 1) * E);
          const n = Math.hypot(...r);
          for (let e = 0; e < E; e++) mean[e]! += r[e]! / n / T;
        }
        const n = Math.hypot(...mean);
        cos.push(mean.reduce((s, v, e) => s + (v / n) * image[e]!, 0));
      });
    }
    await checkTop(
      panel.getByTestId('zs-image').first().getByTestId('zs-top'),
      cos,
      m.logit_scale,
      m.logit_bias,
    );
    await panel.screenshot({ path: `e2e/artifacts/${ep}-zero-shot-imagenet.png` });
    expect(consoleErrors).toEqual([]);
  } finally {
    await ref.release();
  }
});

test('zero-shot: a labelled folder dropped on the panel is read in batches, its sub-folders are the labels', async ({
  page,
  ep,
  consoleErrors,
}) => {
  test.skip(ep !== 'wasm', 'zero-shot runs the same graphs on both providers; the WASM project covers it');
  expect(samplesInBuild(), 'the model folder bundles at least two samples').toBeGreaterThanOrEqual(2);
  await openApp(page, ep);
  const panel = page.getByTestId('zeroshot');
  await panel.getByTestId('zs-toggle').click();
  // pets/<label>/{sample, copy-sample}, one entry per readEntries call
  const samples = new NodeReference(DEFAULT_MODEL_ID).manifest.samples!;
  const labels = samples.map((_, i) => `label-${i}`);
  const files: Record<string, string> = {};
  samples.forEach((s, i) => {
    const name = s.file.split('/').pop()!;
    const url = `models/${DEFAULT_MODEL_ID}/${s.file}`;
    files[`label-${i}/${name}`] = url;
    files[`label-${i}/copy-${name}`] = url;
  });
  await dropFolder(page, '[data-testid="zs-dropzone"]', 'pets', files, { batch: 1 });
  const result = panel.getByTestId('zs-folder');
  await expect(result).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const appLabels = JSON.parse((await result.getAttribute('data-labels'))!) as string[];
  expect([...appLabels].sort()).toEqual([...labels].sort());
  await expect(panel.getByTestId('zs-folder-item')).toHaveCount(2 * labels.length);
  expect(consoleErrors).toEqual([]);
});
