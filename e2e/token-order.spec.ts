/**
 * Token lab, part 2 (issue 12 items 2 and 6), WASM: the token order panel — the prefix picture at k = 0 (all fill)
 * and at k = h·w (the lab's own full decode), a prefix with a chosen fill in between, each against
 * onnxruntime-node on the same ids; the similarity-vs-k sweep's end points against the lab and onnxruntime-node;
 * hover linked between the id strip and the grid — and the exports (ids JSON, .npy int32/int64, PNG, results JSON)
 * parsed back to the exact ids, pixels and scores the lab shows. Plus one edit on WebGPU (@webgpu).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Download, Locator, Page } from '@playwright/test';
import { decode as decodePng } from 'fast-png';
import { DEFAULT_MODEL_ID } from '../src/config/models';
import { parseNpy } from '../src/lib/labExport';
import { chwToRgba } from '../src/lib/preprocess';
import { drawn, json, loadSample, settled } from './labPage';
import { cosines, MODELS_DIR, NodeReference } from './nodeReference';
import { expect, openApp, test } from './fixtures';

const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');

const worstDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Most used code, lower id on ties: counted here, not with the app's helper. */
function mostUsed(ids: number[]): number {
  const n = new Map<number, number>();
  for (const v of ids) n.set(v, (n.get(v) ?? 0) + 1);
  return [...n.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
}

const prefixOf = (ids: number[], k: number, fill: number) =>
  Int32Array.from(ids, (v, i) => (i < k ? v : fill));

/** Waits until the prefix picture for k is the one shown and drawn, and returns its pixels. */
async function prefixPicture(order: Locator, k: number, previous?: number[]): Promise<number[]> {
  await expect(order).toHaveAttribute('data-order-prefix-k', String(k));
  const same = (a: number[], b: number[]) => a.every((v, i) => v === b[i]);
  return drawn(order.getByTestId('order-prefix-recon'), (px) => !previous || !same(px, previous));
}

async function saved(page: Page, button: Locator): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = (await Promise.all([page.waitForEvent('download'), button.click()])) as [Download, void];
  const path = await dl.path();
  const bytes = readFileSync(path);
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(resolve(ARTIFACTS, dl.suggestedFilename()), bytes);
  return { name: dl.suggestedFilename(), bytes };
}

test('token order: prefixes at k = 0, k = h·w and a chosen fill decode as onnxruntime-node; similarity vs k; hover links', async ({
  page,
  ep,
  consoleErrors,
}) => {
  test.skip(ep !== 'wasm', 'WASM; the @webgpu test below covers an edit on WebGPU');
  test.setTimeout(240_000);
  await openApp(page, ep);
  const card = await loadSample(page, 480_000);
  const ref = new NodeReference(DEFAULT_MODEL_ID);
  const m = ref.manifest;
  const S = m.image.size;
  const E = m.embed_dim;
  const n = m.grid.h * m.grid.w;
  try {
    await card.getByRole('button', { name: 'Edit tokens (token lab)' }).click();
    const lab = card.getByTestId('token-lab');
    await settled(lab);
    const ids = await json<number[]>(lab, 'data-lab-ids');
    const labCos = await json<number[]>(lab, 'data-lab-cosines');
    const labRecon = await drawn(lab.getByTestId('lab-recon'));

    await lab.getByRole('button', { name: /^Show token order/ }).click();
    const order = lab.getByTestId('token-order');
    await expect(order).toBeVisible();
    await expect(order).toHaveAttribute('data-order-k', String(n));
    const fill = mostUsed(ids);
    await expect(order, 'the default fill is the most used code').toHaveAttribute(
      'data-order-fill',
      String(fill),
    );

    // k = h·w: the whole grid, i.e. exactly the lab's full decode (same graph, same ids: same pixels).
    const full = await prefixPicture(order, n);
    expect(full, 'k = h·w is the lab’s own picture').toEqual(labRecon);
    expect(worstDiff(full, chwToRgba(await ref.decode(Int32Array.from(ids)), S, S))).toBeLessThanOrEqual(1);

    // k = 0: every token is the fill code.
    await order.getByTestId('order-k').fill('0');
    await expect(order.getByTestId('order-k-text')).toHaveText('0');
    const empty = await prefixPicture(order, 0, full);
    const wantEmpty = chwToRgba(await ref.decode(prefixOf(ids, 0, fill)), S, S);
    expect(worstDiff(empty, wantEmpty), 'k = 0 vs onnxruntime-node on the all-fill grid').toBeLessThanOrEqual(
      1,
    );

    // Keyboard on the slider, then a chosen fill: k = 0 → 3 with ArrowRight, fill = the lab's chosen code + 1.
    const slider = order.getByTestId('order-k');
    await slider.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    const chosen = (mostUsed(ids) + 1) % m.codebook.size;
    await order.getByTestId('order-fill').fill(String(chosen));
    await expect(order).toHaveAttribute('data-order-fill', String(chosen));
    await page.keyboard.press('Tab'); // leave the number field
    await slider.fill(String(n / 2));
    const half = await prefixPicture(order, n / 2, empty);
    const wantHalf = chwToRgba(await ref.decode(prefixOf(ids, n / 2, chosen)), S, S);
    expect(worstDiff(half, wantHalf), `k = ${n / 2}, fill ${chosen} vs onnxruntime-node`).toBeLessThanOrEqual(
      1,
    );

    // Hover: an id in the strip marks its cell in the grid, and a cell marks its id.
    await order.locator('[data-pos="37"]').hover();
    await expect(lab.locator('[data-cell="37"]')).toHaveAttribute('data-order-hover', 'true');
    await expect(order.getByTestId('order-hover')).toContainText(
      `position 38 (row 3, column 6): token ${ids[37]}`,
    );
    await lab.locator('[data-cell="50"]').hover();
    await expect(order.locator('[data-pos="50"]')).toHaveAttribute('aria-selected', 'true');
    await expect(lab.locator('[data-cell="37"]')).not.toHaveAttribute('data-order-hover', 'true');
    // Keyboard: moving the grid's cursor marks its id in the strip as the pointer does.
    const grid = lab.getByTestId('lab-grid');
    await page.mouse.move(0, 0); // the pointer leaves the grid: no id marked
    await expect(order.locator('[aria-selected="true"]')).toHaveCount(0);
    await grid.focus();
    await grid.press('ArrowDown');
    const cursor = Number((await grid.getAttribute('aria-activedescendant'))!.split('-').at(-1));
    await expect(order.locator(`[data-pos="${cursor}"]`)).toHaveAttribute('aria-selected', 'true');
    await expect(lab.locator(`[data-cell="${cursor}"]`)).toHaveAttribute('data-order-hover', 'true');

    // The sweep ran with the chosen fill: 17 prefix lengths, each end checked. k = h·w: the lab's own cosines;
    // k = 0: onnxruntime-node's TokLIP on the all-fill grid.
    await expect(order).toHaveAttribute('data-order-sweep', /\[/);
    const sweep = await json<[number, number[]][]>(order, 'data-order-sweep');
    expect(sweep.map((p) => p[0])).toEqual(Array.from({ length: 17 }, (_, i) => Math.round((i * n) / 16)));
    const prompts = await json<string[]>(card, 'data-prompts');
    const last = sweep.at(-1)![1];
    last.forEach((c, k) =>
      expect(Math.abs(c - labCos[k]!), `k = h·w, "${prompts[k]}"`).toBeLessThanOrEqual(1e-6),
    );
    const text = await ref.text(prompts);
    const want0 = cosines(await ref.image(prefixOf(ids, 0, chosen)), text, E);
    sweep[0]![1].forEach((c, k) =>
      expect(Math.abs(c - want0[k]!), `k = 0, "${prompts[k]}" vs onnxruntime-node`).toBeLessThanOrEqual(1e-4),
    );
    const wantMid = cosines(await ref.image(prefixOf(ids, sweep[8]![0], chosen)), text, E);
    sweep[8]![1].forEach((c, k) => expect(Math.abs(c - wantMid[k]!)).toBeLessThanOrEqual(1e-4));
    await expect(order.getByTestId('order-status')).toHaveText(
      /^Similarity computed at 17 prefix lengths in \d+\.\d s\.$/,
    );
    // the chart has a text alternative naming every prompt, and a data table of every value
    const desc = await order.getByTestId('order-chart').locator('desc').textContent();
    for (const p of prompts) expect(desc).toContain(p);
    await order.getByText('Chart data as a table').click();
    await expect(order.getByTestId('order-table').locator('tbody tr')).toHaveCount(17);
    await order.scrollIntoViewIfNeeded();
    await order.screenshot({ path: `${ARTIFACTS}/token-order-${ep}.png` });

    const controls = order.locator('button, input, [role="listbox"]');
    for (let i = 0; i < (await controls.count()); i++)
      await expect(controls.nth(i)).toHaveAccessibleName(/\S/);
  } finally {
    await ref.release();
  }
  expect(consoleErrors).toEqual([]);
});

test('token lab exports: edited ids as JSON and .npy (int32, int64), the PNG and results JSON read back exactly', async ({
  page,
  ep,
  consoleErrors,
}) => {
  test.skip(ep !== 'wasm', 'exports do not depend on the provider');
  await openApp(page, ep);
  const card = await loadSample(page, 480_000);
  const m = JSON.parse(readFileSync(resolve(MODELS_DIR, DEFAULT_MODEL_ID, 'manifest.json'), 'utf8')) as {
    id: string;
    grid: { h: number; w: number };
    codebook: { size: number };
  };
  const { h, w } = m.grid;
  await card.getByRole('button', { name: 'Edit tokens (token lab)' }).click();
  const lab = card.getByTestId('token-lab');
  await settled(lab);
  const original = await json<number[]>(lab, 'data-lab-ids');

  // One edit: the first row set to a code none of it has.
  const row = Array.from({ length: w }, (_, c) => c);
  const used = new Set(row.map((i) => original[i]));
  let code = m.codebook.size - 1;
  while (used.has(code)) code--;
  await lab.locator('[data-cell="0"]').click();
  await lab.locator(`[data-cell="${w - 1}"]`).click({ modifiers: ['Shift'] });
  await expect(lab).toHaveAttribute('data-lab-selection', JSON.stringify(row));
  await lab.getByTestId('lab-code-search').fill(String(code));
  await lab.getByTestId('lab-code-search').press('Enter');
  await lab.getByRole('button', { name: `Set to code ${code}`, exact: true }).click();
  const edited = original.map((v, i) => (i < w ? code : v));
  await expect(lab).toHaveAttribute('data-lab-ids', JSON.stringify(edited));
  await settled(lab);
  const recon = await drawn(lab.getByTestId('lab-recon'));
  const cos = await json<number[]>(lab, 'data-lab-cosines');
  const teacher = await json<(number | null)[]>(lab, 'data-lab-teacher-cosines');
  const exp = lab.getByTestId('lab-export');
  const rows = Array.from({ length: h }, (_, r) => edited.slice(r * w, (r + 1) * w));

  const idsJson = await saved(page, exp.getByRole('button', { name: 'Edited ids (JSON)' }));
  expect(idsJson.name).toMatch(/\.edited-ids\.json$/);
  const doc = JSON.parse(idsJson.bytes.toString('utf8')) as {
    ids: number[][];
    grid: unknown;
    model_id: string;
  };
  expect(doc.ids).toEqual(rows);
  expect(doc.grid).toEqual({ h, w });
  expect(doc.model_id).toBe(m.id);
  await expect(exp.getByTestId('lab-export-status')).toHaveText(
    /^Saved .*\.edited-ids\.json \(\d+\.\d KiB\)\.$/,
  );

  for (const dtype of ['int32', 'int64'] as const) {
    const npy = await saved(page, exp.getByRole('button', { name: `Edited ids (NumPy .npy, ${dtype})` }));
    expect(npy.name).toMatch(new RegExp(`\\.edited-ids\\.${dtype}\\.npy$`));
    const p = parseNpy(new Uint8Array(npy.bytes));
    expect(p).toMatchObject({
      version: [1, 0],
      descr: dtype === 'int32' ? '<i4' : '<i8',
      fortranOrder: false,
    });
    expect(p.shape).toEqual([h, w]);
    expect(p.values).toEqual(edited);
  }

  const png = await saved(page, exp.getByRole('button', { name: 'Re-decoded picture (PNG)' }));
  const img = decodePng(new Uint8Array(png.bytes));
  expect(img).toMatchObject({ width: Math.sqrt(recon.length / 4), channels: 3, depth: 8 });
  expect(Array.from(img.data), 'the PNG holds exactly the pixels the lab shows').toEqual(
    recon.filter((_, i) => i % 4 !== 3),
  );

  const res = await saved(page, exp.getByRole('button', { name: 'Results of this image (JSON)' }));
  const r = JSON.parse(res.bytes.toString('utf8')) as {
    schema: string;
    model: { id: string; manifest_sha256: string };
    prompts: string[];
    image: {
      ids: number[][];
      lab: { edits: number; edited_ids: number[][]; embedding: { dim: number; l2_norm: number } };
      scores: {
        prompt: string;
        lab_toklip_cos: number;
        lab_teacher_cos: number | null;
        toklip_cos: number;
      }[];
    };
  };
  const manifestSha = createHash('sha256')
    .update(readFileSync(resolve(MODELS_DIR, DEFAULT_MODEL_ID, 'manifest.json')))
    .digest('hex');
  expect(r.schema).toBe('toklip-studio.results/1');
  expect(r.model).toMatchObject({ id: m.id, manifest_sha256: manifestSha });
  expect(r.image.ids.flat()).toEqual(original);
  expect(r.image.lab.edited_ids).toEqual(rows);
  expect(r.image.lab.edits).toBe(1);
  expect(Math.abs(r.image.lab.embedding.l2_norm - 1)).toBeLessThan(1e-4);
  expect(r.prompts).toEqual(await json<string[]>(card, 'data-prompts'));
  r.image.scores.forEach((s, k) => {
    expect(Math.abs(s.lab_toklip_cos - cos[k]!)).toBeLessThanOrEqual(1e-9);
    if (teacher[k] !== null) expect(Math.abs(s.lab_teacher_cos! - teacher[k]!)).toBeLessThanOrEqual(1e-9);
  });
  const cardCos = await json<number[]>(card, 'data-cosines');
  r.image.scores.forEach((s, k) => expect(Math.abs(s.toklip_cos - cardCos[k]!)).toBeLessThanOrEqual(1e-9));

  const session = await saved(page, exp.getByRole('button', { name: 'Results of every image (JSON)' }));
  const sdoc = JSON.parse(session.bytes.toString('utf8')) as {
    images: { lab: { edited_ids: number[][] } }[];
  };
  expect(sdoc.images).toHaveLength(1);
  expect(sdoc.images[0]!.lab.edited_ids).toEqual(rows);
  await exp.screenshot({ path: `${ARTIFACTS}/token-lab-export-${ep}.png` });
  expect(consoleErrors).toEqual([]);
});

test('token lab on WebGPU: one edit re-decodes and re-scores as onnxruntime-node @webgpu', async ({
  page,
  ep,
  consoleErrors,
}) => {
  test.skip(ep !== 'webgpu', 'the WASM edits are in token-lab.spec.ts');
  await openApp(page, ep);
  const card = await loadSample(page, 480_000);
  const ref = new NodeReference(DEFAULT_MODEL_ID);
  const m = ref.manifest;
  const S = m.image.size;
  try {
    await card.getByRole('button', { name: 'Edit tokens (token lab)' }).click();
    const lab = card.getByTestId('token-lab');
    await settled(lab);
    const original = await json<number[]>(lab, 'data-lab-ids');
    // a small edit: one token, set by keyboard to a code it does not have
    const code = original[0] === m.codebook.size - 1 ? m.codebook.size - 2 : m.codebook.size - 1;
    await lab.getByTestId('lab-grid').focus();
    await page.keyboard.press('Space');
    await lab.getByTestId('lab-code-search').fill(String(code));
    await lab.getByTestId('lab-code-search').press('Enter');
    await lab.getByRole('button', { name: `Set to code ${code}`, exact: true }).click();
    const edited = original.map((v, i) => (i === 0 ? code : v));
    await expect(lab).toHaveAttribute('data-lab-ids', JSON.stringify(edited));
    await settled(lab);
    const ids = Int32Array.from(edited);
    const recon = await drawn(lab.getByTestId('lab-recon'));
    const worst = worstDiff(recon, chwToRgba(await ref.decode(ids), S, S));
    console.log(`WebGPU lab edit: largest pixel difference vs onnxruntime-node ${worst}`);
    expect(worst).toBeLessThanOrEqual(1);
    const prompts = await json<string[]>(card, 'data-prompts');
    const want = cosines(await ref.image(ids), await ref.text(prompts), m.embed_dim);
    const cos = await json<number[]>(lab, 'data-lab-cosines');
    cos.forEach((c, k) => expect(Math.abs(c - want[k]!), `"${prompts[k]}"`).toBeLessThanOrEqual(1e-4));
    await lab.screenshot({ path: `${ARTIFACTS}/token-lab-webgpu.png` });
  } finally {
    await ref.release();
  }
  expect(consoleErrors).toEqual([]);
});
