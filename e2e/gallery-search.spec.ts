/**
 * Gallery search and the prompt table's softmax (WASM), checked against onnxruntime-node on each graph's own
 * input: TokLIP on the app's ids, the teacher on the pixels the app's own decoder and preprocessing make of the
 * same file, the text tower on the query. The expected rankings are computed from those node figures; a sample
 * whose own title ranks it first is a fact of the model, found by the node reference, not assumed here.
 */
import type { Locator, Page } from '@playwright/test';
import { DEFAULT_MODEL_ID } from '../src/config/models';
import type { PilMode } from '../src/lib/pngPixels';
import { preprocess } from '../src/lib/preprocess';
import { rankAll, spearman } from '../src/lib/ranking';
import { formatPercent } from '../src/lib/format';
import { json } from './labPage';
import { cosines, NodeReference } from './nodeReference';
import { expect, openApp, samplesInBuild, test } from './fixtures';

async function appDecode(
  page: Page,
  url: string,
  name: string,
): Promise<{ rgba: Uint8ClampedArray; width: number; height: number; mode?: PilMode }> {
  const out = await page.evaluate(
    async ({ url, name }) => {
      const blob = await (await fetch(url)).blob();
      const dbg = (window as unknown as { __toklipDebug: { decode: (b: Blob, n: string) => Promise<{ rgba: Uint8ClampedArray; width: number; height: number; mode?: string }> } }).__toklipDebug; // prettier-ignore
      const d = await dbg.decode(blob, name);
      let s = '';
      for (let i = 0; i < d.rgba.length; i++) s += String.fromCharCode(d.rgba[i]!);
      return { width: d.width, height: d.height, mode: d.mode, rgba: btoa(s) };
    },
    { url, name },
  );
  return {
    width: out.width,
    height: out.height,
    mode: out.mode as PilMode | undefined,
    rgba: new Uint8ClampedArray(Buffer.from(out.rgba, 'base64')),
  };
}

/** Waits until the panel shows the ranking of exactly `query` and nothing is pending. */
async function rankedFor(panel: Locator, query: string): Promise<void> {
  await expect(panel).toHaveAttribute('data-query', query);
  await expect(panel).toHaveAttribute('data-state', 'idle');
}

/**
 * `order` (indices, best first) is a ranking the reference scores allow: each entry scores no less than the
 * next, up to `tol`. Two images whose reference scores lie within `tol` of each other may come in either
 * order (a fact of the model, not of the app); any wider inversion fails.
 */
function rankingAllowedBy(order: number[], want: number[], tol: number): boolean {
  const complete = [...order].sort((a, b) => a - b).every((k, i) => k === i) && order.length === want.length;
  return complete && order.every((k, i) => i === 0 || want[order[i - 1]!]! >= want[k]! - tol);
}

/** Index `i` scores above every other image by more than `tol`: first in any ranking the scores allow. */
function clearlyFirst(scores: number[], i: number, tol: number): boolean {
  return scores.every((s, k) => k === i || scores[i]! - s > tol);
}

test('gallery search ranks the samples as onnxruntime-node does; a sample’s own title finds it; keyboard path; softmax column', async ({
  page,
  ep,
  consoleErrors,
}) => {
  test.skip(ep !== 'wasm', 'the WASM project covers the search (only the text tower runs per query)');
  // Processing the samples alone takes ~50 s on this 2-core machine (sessions are created first): room for a busy one.
  test.setTimeout(test.info().timeout * 3);
  const count = samplesInBuild(DEFAULT_MODEL_ID);
  expect(count, 'the default model lists samples in its manifest').toBeGreaterThanOrEqual(2);
  await openApp(page, ep, '&debug=1');
  const ref = new NodeReference(DEFAULT_MODEL_ID);
  const m = ref.manifest;
  const E = m.embed_dim;
  const TOL = 1e-4;
  try {
    // Load every sample, one after another (so the gallery order is the manifest's).
    const buttons = page.getByTestId('samples').getByRole('button');
    const cards = page.getByTestId('image-card');
    for (let i = 0; i < count; i++) {
      await buttons.nth(i).click();
      await expect(cards).toHaveCount(i + 1);
    }
    for (let i = 0; i < count; i++) await expect(cards.nth(i)).toHaveAttribute('data-status', 'done');

    // Node figures per sample: TokLIP on the app's ids; the teacher on the app decoder's pixels.
    const base = new URL(`models/${DEFAULT_MODEL_ID}/`, page.url()).href;
    const samples = m.samples!;
    const names = samples.map((s) => s.file.split('/').pop()!);
    const tokEmb: Float32Array[] = [];
    const teaEmb: Float32Array[] = [];
    for (const [i, s] of samples.entries()) {
      const card = cards.nth(i);
      await expect(card).toHaveAttribute('data-name', names[i]!);
      const ids = Int32Array.from((await json<number[][]>(card, 'data-ids')).flat());
      tokEmb.push(await ref.image(ids));
      if (m.teacher) {
        const d = await appDecode(page, new URL(s.file, base).href, names[i]!);
        teaEmb.push(await ref.teacher(preprocess({ ...d, data: d.rgba }, m.image)));
      }
    }

    const panel = page.getByTestId('gallery-search');
    const input = panel.getByTestId('search-input');
    await expect(input).toBeEnabled();
    const selfFirst: string[] = [];
    for (const [i, s] of samples.entries()) {
      const query = s.title;
      await input.fill(query);
      await rankedFor(panel, query);
      const text = await ref.text([query]);
      const wantTok = tokEmb.map((e) => cosines(e, text, E)[0]!);
      const wantTea = teaEmb.map((e) => cosines(e, text, E)[0]!);
      const shown = await json<{ name: string; tok: number; teacher: number | null }[]>(
        panel,
        'data-results',
      );
      expect(shown.map((r) => r.name)).toEqual(names);
      shown.forEach((r, k) => {
        expect(Math.abs(r.tok - wantTok[k]!), `TokLIP "${query}" × ${r.name}`).toBeLessThanOrEqual(TOL);
        if (m.teacher)
          expect(Math.abs(r.teacher! - wantTea[k]!), `teacher "${query}" × ${r.name}`).toBeLessThanOrEqual(
            TOL,
          );
      });
      // The app ranks its own scores (ties by gallery order), and that ranking is one the node figures allow.
      const index = (order: string[]) => order.map((n) => names.indexOf(n));
      const shownTok = shown.map((r) => r.tok);
      const tokOrder = await json<string[]>(panel.getByTestId('search-list-tok'), 'data-order');
      expect(tokOrder).toEqual(rankAll(shownTok).map((k) => names[k]!));
      expect(
        rankingAllowedBy(index(tokOrder), wantTok, 2 * TOL),
        `TokLIP ranking for "${query}" ${tokOrder.join(' > ')} vs node ${wantTok.join(', ')}`,
      ).toBe(true);
      if (m.teacher) {
        const shownTea = shown.map((r) => r.teacher!);
        const teaOrder = await json<string[]>(panel.getByTestId('search-list-teacher'), 'data-order');
        expect(teaOrder).toEqual(rankAll(shownTea).map((k) => names[k]!));
        expect(
          rankingAllowedBy(index(teaOrder), wantTea, 2 * TOL),
          `teacher ranking for "${query}" ${teaOrder.join(' > ')} vs node ${wantTea.join(', ')}`,
        ).toBe(true);
        const agreement = await json<{ spearman: number; k: number; overlap: number }>(
          panel,
          'data-agreement',
        );
        expect(agreement.spearman).toBeCloseTo(spearman(shownTok, shownTea), 6);
      }
      if (clearlyFirst(wantTok, i, 2 * TOL)) selfFirst.push(names[i]!);
      // The live region says how many images were ranked, for which text.
      await expect(panel.getByTestId('search-status')).toHaveText(
        new RegExp(`^${count} images ranked for “${query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}”\\.`),
      );
    }
    // The claim of the feature, true of this model per onnxruntime-node (and then shown by the app, above).
    expect(selfFirst.length, 'some sample’s own title ranks it first (onnxruntime-node)').toBeGreaterThan(0);
    console.log(`own title ranks the sample first (TokLIP): ${selfFirst.join(', ')} of ${names.join(', ')}`);

    // Typing character by character: the ranking shown is the last text's, whatever was dropped on the way.
    const typedAt = names.indexOf(selfFirst[0]!);
    const typed = samples[typedAt]!.title;
    await input.fill('');
    await input.pressSequentially(typed, { delay: 15 });
    await rankedFor(panel, typed);
    const first = panel.getByTestId('search-list-tok').getByTestId('search-result').first();
    await expect(first).toHaveAttribute('data-name', names[typedAt]!);
    await expect(first).toContainText(/#1.*cos -?\d\.\d{3}/);
    await panel.screenshot({ path: `e2e/artifacts/gallery-search-${ep}.png` });

    // Keyboard: ↓ from the box into TokLIP's list, ↓ to the second result, Enter focuses that image's card.
    const tokList = panel.getByTestId('search-list-tok');
    const order = await json<string[]>(tokList, 'data-order');
    await input.focus();
    await page.keyboard.press('ArrowDown');
    await expect(tokList).toBeFocused();
    await expect(tokList).toHaveAttribute('aria-activedescendant', 'search-tok-0');
    await page.keyboard.press('ArrowDown');
    await expect(tokList).toHaveAttribute('aria-activedescendant', 'search-tok-1');
    await expect(tokList.locator('#search-tok-1')).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('Enter');
    const focusedCard = page.locator('[data-testid="image-card"]:focus');
    await expect(focusedCard).toHaveAttribute('data-name', order[1]!);
    // Escape from the list goes back to the box.
    await tokList.focus();
    await page.keyboard.press('Escape');
    await expect(input).toBeFocused();

    // Prompt table: softmax over the prompts next to the sigmoid, against node cosines of the app's ids.
    const card = cards.first();
    await expect(card).toHaveAttribute('data-softmax', /\[/);
    const prompts = await json<string[]>(card, 'data-prompts');
    const shownCos = await json<number[]>(card, 'data-cosines');
    const soft = await json<number[]>(card, 'data-softmax');
    const nodeCos = cosines(tokEmb[0]!, await ref.text(prompts), E);
    const softmaxOf = (c: number[]) => {
      const top = Math.max(...c);
      const e = c.map((x) => Math.exp(m.logit_scale * (x - top)));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / sum);
    };
    const fromShown = softmaxOf(shownCos);
    const fromNode = softmaxOf(nodeCos);
    soft.forEach((p, k) => {
      expect(Math.abs(shownCos[k]! - nodeCos[k]!), `cosine "${prompts[k]}" vs node`).toBeLessThanOrEqual(TOL);
      expect(Math.abs(p - fromShown[k]!), `softmax "${prompts[k]}" of the shown cosines`).toBeLessThanOrEqual(
        1e-12,
      );
      // |dp| ≤ p(1−p)·scale·|dcos| + the other prompts' share of the same shift: a bound of scale·TOL
      expect(Math.abs(p - fromNode[k]!), `softmax "${prompts[k]}" vs node`).toBeLessThanOrEqual(
        m.logit_scale * TOL,
      );
    });
    expect(soft.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const cells = card.getByTestId('softmax-cell');
    await expect(cells).toHaveText(soft.map((p) => formatPercent(p)));

    // Each probability column explains itself, to screen readers and on keyboard focus.
    const sigmoidHelp = card.getByTestId('help-sigmoid');
    const softmaxHelp = card.getByTestId('help-softmax');
    await expect(sigmoidHelp).toHaveAccessibleDescription(/sigmoid\(.*cos.*\).*need not sum to 100 %/);
    await expect(softmaxHelp).toHaveAccessibleDescription(
      new RegExp(`softmax\\(${m.logit_scale.toFixed(2)}·cos\\).*sums to 100 %`),
    );
    const tip = card.locator(`#${await softmaxHelp.getAttribute('aria-describedby')}`);
    // the text also shows on hover: keep the pointer away, and the table mid-screen for the screenshot
    await page.mouse.move(0, 0);
    await card.getByTestId('prompt-scores').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await expect(tip).toBeHidden();
    await softmaxHelp.focus();
    await expect(tip).toBeVisible();
    const a = (await card.getByTestId('prompt-scores').boundingBox())!;
    const b = (await tip.boundingBox())!;
    const x = Math.min(a.x, b.x) - 8;
    const y = Math.min(a.y, b.y) - 8;
    await page.screenshot({
      path: `e2e/artifacts/prompt-softmax-${ep}.png`,
      clip: {
        x,
        y,
        width: Math.max(a.x + a.width, b.x + b.width) + 8 - x,
        height: Math.max(a.y + a.height, b.y + b.height) + 8 - y,
      },
    });
    await page.keyboard.press('Escape');
    await expect(tip).toBeHidden();
  } finally {
    await ref.release();
  }
  expect(consoleErrors).toEqual([]);
});
