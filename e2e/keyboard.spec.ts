/** Keyboard only: reach the file picker (and the sample gallery when samples are bundled), open an image, walk the token grid. */
import type { Page } from '@playwright/test';
import { testPicture } from './png';
import { expect, openApp, test } from './fixtures';

async function tabUntil(page: Page, predicate: () => Promise<boolean>, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await predicate()) return;
  }
  throw new Error('the element was not reached with Tab');
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
  await expect(page.locator(':focus')).toHaveCSS('outline-style', /.*/);
  await card.screenshot({ path: 'e2e/artifacts/keyboard-token-grid.png' });

  // The sample gallery, when this build bundles samples.
  const samples = page.getByTestId('samples').getByRole('button');
  if ((await samples.count()) > 0) {
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
