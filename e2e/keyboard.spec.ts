/** Keyboard only: reach the file picker (and the sample gallery when samples are bundled), open an image, walk the token grid. */
import type { Page } from '@playwright/test';
import { testPicture } from './png';
import { expect, openApp, samplesInBuild, test } from './fixtures';

async function tabUntil(page: Page, predicate: () => Promise<boolean>, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await predicate()) return;
  }
  throw new Error('the element was not reached with Tab');
}

/** A non-transparent colour: rgb(), or rgba()/oklch()/… with an alpha that is not 0. */
function opaque(colour: string): boolean {
  if (colour === 'transparent') return false;
  const alpha = /\/\s*([\d.]+%?)\s*\)$|rgba\([^)]*,\s*([\d.]+)\s*\)$/.exec(colour);
  const a = alpha ? (alpha[1] ?? alpha[2])! : '1';
  return parseFloat(a) > 0;
}

/** An outline, or a box-shadow ring (spread ≥ 2 px), wide enough and coloured enough to be seen. */
function visibleMark(style: { outline: string; boxShadow: string }): boolean {
  const o = /^(\S+) ([\d.]+)px (.+)$/.exec(style.outline);
  if (o && o[1] !== 'none' && o[1] !== 'hidden' && Number(o[2]) >= 2 && opaque(o[3]!)) return true;
  if (style.boxShadow === 'none') return false;
  // "colour 0px 0px 0px 2px" per shadow, shadows separated by commas outside parentheses
  return style.boxShadow.split(/,(?![^(]*\))/).some((sh) => {
    const px = [...sh.matchAll(/(-?[\d.]+)px/g)].map((m) => Number(m[1]));
    const colour = sh.replace(/(-?[\d.]+)px|inset/g, '').trim();
    return px.length >= 4 && px[3]! >= 2 && opaque(colour);
  });
}

const focusedText = (page: Page) => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
const focusedAttr = (page: Page, name: string) =>
  page.evaluate((n) => document.activeElement?.getAttribute(n) ?? null, name);

test('keyboard only: file picker, token grid with arrow keys, sample gallery', async ({ page, ep }) => {
  test.skip(ep !== 'wasm', 'keyboard behaviour does not depend on the provider');
  await openApp(page, ep);

  // Tab to "Choose images…" and open it with Enter.
  await tabUntil(page, async () => (await focusedText(page)) === 'Choose images…');
  const chooser = page.waitForEvent('filechooser');
  await page.keyboard.press('Enter');
  await (
    await chooser
  ).setFiles([{ name: 'keyboard.png', mimeType: 'image/png', buffer: testPicture(160, 160, 2) }]);

  const card = page.getByTestId('image-card').first();
  await expect(card).toHaveAttribute('data-status', 'done');
  const ids = JSON.parse((await card.getAttribute('data-ids'))!) as number[][];

  // Tab into the token grid (one tab stop), then arrows.
  await tabUntil(page, async () => (await focusedAttr(page, 'role')) === 'gridcell');
  expect(await focusedAttr(page, 'data-row')).toBe('0');
  for (const key of ['ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowDown', 'ArrowDown'])
    await page.keyboard.press(key);
  expect(await focusedAttr(page, 'data-row')).toBe('2');
  expect(await focusedAttr(page, 'data-col')).toBe('3');
  const inspector = card.getByTestId('token-inspector');
  await expect(inspector).toContainText('row 2 · col 3');
  await expect(inspector.getByTestId('inspector-id')).toHaveText(String(ids[2]![3]));
  await expect(inspector).toContainText(`codebook[${ids[2]![3]}] = [`);
  await page.keyboard.press('End');
  expect(await focusedAttr(page, 'data-col')).toBe(String(ids[0]!.length - 1));
  // The focused cell must be visibly marked: an outline or a ring (box-shadow) at least 2 px wide, in a colour
  // that is not transparent, that a cell without focus does not have.
  const focusMark = async (selector: string) =>
    page.locator(selector).evaluate((el) => {
      const s = getComputedStyle(el);
      return { outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`, boxShadow: s.boxShadow };
    });
  const focused = await focusMark(':focus');
  const other = await focusMark('[role="gridcell"][data-row="1"][data-col="0"]');
  expect(visibleMark(focused), `focus style of the token grid cell: ${JSON.stringify(focused)}`).toBe(true);
  expect(focused, 'a cell without focus looks different').not.toEqual(other);
  await card.screenshot({ path: 'e2e/artifacts/keyboard-token-grid.png' });

  // The sample gallery: the samples the model's manifest lists (wait for them).
  const samples = page.getByTestId('samples').getByRole('button');
  const bundled = samplesInBuild();
  if (bundled > 0) {
    await expect(samples, 'bundled samples shown in the gallery').toHaveCount(bundled);
    await page.keyboard.press('Shift+Tab'); // leave the grid backwards, then tab forward from the top
    await page.locator('body').focus();
    await tabUntil(page, async () =>
      ((await focusedAttr(page, 'aria-label')) ?? '').startsWith('Open sample:'),
    );
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('image-card')).toHaveCount(2);
    await expect(page.getByTestId('image-card').nth(1)).toHaveAttribute('data-status', 'done');
  } else {
    await expect(page.getByTestId('no-samples')).toBeVisible();
  }
});
