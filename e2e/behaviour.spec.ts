/** App behaviour that does not need the Python golden values (WASM only). */
import { testPicture } from './png';
import { expect, openApp, test } from './fixtures';

test.beforeEach(({ ep }) => test.skip(ep !== 'wasm', 'provider independent'));

test('editing a prompt re-embeds only the text', async ({ page, ep }) => {
  await openApp(page, ep);
  const requests: string[] = [];
  await page.getByTestId('file-input').setInputFiles([
    { name: 'a.png', mimeType: 'image/png', buffer: testPicture(96, 128, 0) },
    { name: 'b.png', mimeType: 'image/png', buffer: testPicture(128, 96, 3) },
  ]);
  const cards = page.getByTestId('image-card');
  await expect(cards.nth(1)).toHaveAttribute('data-cosines', /\[/);
  await expect(page.getByTestId('image-image-matrix')).toBeVisible();
  const before = await cards.nth(0).getByTestId('timings').textContent();
  page.on('request', (r) => requests.push(r.url()));

  await page.getByTestId('prompts').fill('a red disc on a gradient\na photo of a cat');
  await expect(cards.nth(0)).toHaveAttribute(
    'data-prompts',
    JSON.stringify(['a red disc on a gradient', 'a photo of a cat']),
  );
  const cos = JSON.parse((await cards.nth(0).getAttribute('data-cosines'))!) as number[];
  expect(cos).toHaveLength(2);
  expect(await cards.nth(0).getByTestId('timings').textContent()).toBe(before); // image stages not re-run
  await expect(page.getByTestId('image-prompt-matrix').locator('tbody tr')).toHaveCount(2);
  expect(requests).toEqual([]); // nothing fetched for a prompt edit
});

test('an unknown model folder gives a clear error', async ({ page }) => {
  await page.goto('./?ep=wasm&model=no-such-model');
  await expect(page.getByTestId('model-error')).toContainText('manifest.json');
  await expect(page.getByTestId('model-error')).toContainText('no such model folder');
});

test('a file that is not an image fails in its own card only', async ({ page, ep }) => {
  await openApp(page, ep);
  await page.getByTestId('file-input').setInputFiles([
    { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('this is text, not a PNG') },
    { name: 'ok.png', mimeType: 'image/png', buffer: testPicture(64, 64, 1) },
  ]);
  const bad = page.locator('[data-testid="image-card"][data-name="notes.png"]');
  const good = page.locator('[data-testid="image-card"][data-name="ok.png"]');
  await expect(bad).toHaveAttribute('data-status', 'error');
  await expect(bad.getByTestId('image-error')).toContainText('this file is plain text, not an image');
  await expect(good).toHaveAttribute('data-status', 'done');
});
