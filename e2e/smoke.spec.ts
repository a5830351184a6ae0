import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { testPicture } from './png';
import { expect, openApp, test } from './fixtures';

const HAVE_GOLDEN = existsSync(resolve(import.meta.dirname, 'fixtures/toklip-tiny/golden.json'));

test('smoke: drop pictures, see tokens, reconstruction and scores @webgpu', async ({
  page,
  ep,
  consoleErrors,
}) => {
  // SwiftShader takes ~2 min per image: on WebGPU the golden test covers this once the fixtures exist.
  test.skip(ep === 'webgpu' && HAVE_GOLDEN, 'covered by the golden @webgpu test');
  await openApp(page, ep);
  for (const i of ep === 'webgpu' ? [0] : [0, 1]) {
    await page
      .getByTestId('file-input')
      .setInputFiles([{ name: `picture${i}.png`, mimeType: 'image/png', buffer: testPicture(200, 150, i) }]);
    const card = page.getByTestId('image-card').nth(i);
    await expect(card).toHaveAttribute('data-status', 'done');
    await expect(card).toHaveAttribute('data-cosines', /\[/);
    const ids = JSON.parse((await card.getAttribute('data-ids'))!);
    expect(ids.length).toBe(16);
    console.log('timings', await card.getByTestId('timings').textContent());
  }
  await page.screenshot({ path: `e2e/artifacts/smoke-${ep}.png`, fullPage: true });
  expect(consoleErrors).toEqual([]);
});
