/**
 * The model cache manager: the bundled model is listed with the size of the files the worker cached (their bytes
 * in manifest.json), deleting it removes them from Cache Storage while the model in use keeps working, and the next
 * page load downloads and lists it again. A full quota (cache.put rejecting with QuotaExceededError, patched
 * into the inference worker's global scope with worker.evaluate — no debug hook in the app) gives a notice and
 * the model still loads and works.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { formatBytes } from '../src/lib/format';
import { expect, openApp, test } from './fixtures';
import { processPicture } from './modelPanel';

const MODEL = 'toklip-tiny';
const manifest = JSON.parse(
  readFileSync(resolve(import.meta.dirname, `../public/models/${MODEL}/manifest.json`), 'utf8'),
) as { display_name: string; files: { role: string; path: string; bytes: number; sha256: string }[] };
/** what loading the model reads (its card and metrics are only linked, never needed to run) */
const NEEDED = manifest.files.filter((f) => f.role !== 'model_card' && f.role !== 'metrics');

test.beforeEach(({ ep }) => test.skip(ep !== 'wasm', 'provider independent'));

const folderUrl = (page: Page) => page.evaluate((m) => new URL(`models/${m}/`, document.baseURI).href, MODEL);

/** Keys in the worker's model cache under `folder`, and whether the folder has a metadata record. */
function cached(page: Page, folder: string): Promise<{ keys: string[]; meta: boolean }> {
  return page.evaluate(async (folder) => {
    const keys = (await caches.has('toklip-models-v1'))
      ? (await (await caches.open('toklip-models-v1')).keys()).map((r) => r.url)
      : [];
    const meta = (await caches.has('toklip-models-meta'))
      ? (await (await caches.open('toklip-models-meta')).match(folder)) !== undefined
      : false;
    return { keys: keys.filter((k) => k.startsWith(folder)).sort(), meta };
  }, folder);
}

async function openPanel(page: Page): Promise<void> {
  // keyboard: the disclosure's summary is focusable and opens with Enter
  await page.getByTestId('cache-summary').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cache-panel')).toHaveAttribute('data-status', 'ready');
}

test('lists the cached model with its size, deletes it while it stays usable, re-downloads after reload', async ({
  page,
  context,
  ep,
}) => {
  test.setTimeout(240_000);
  const t0 = Date.now();
  await openApp(page, ep);
  const folder = await folderUrl(page);
  const want = NEEDED.map((f) => `${new URL(f.path, folder).href}?sha256=${f.sha256}`).sort();
  const wantBytes = NEEDED.reduce((n, f) => n + f.bytes, 0);
  expect(await cached(page, folder)).toEqual({ keys: want, meta: true });

  await openPanel(page);
  const row = page.locator(`[data-testid="cache-row"][data-source="${folder}"]`);
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('cache-model-name')).toHaveText(manifest.display_name);
  await expect(row.getByTestId('cache-size')).toHaveAttribute('value', String(wantBytes));
  await expect(row.getByTestId('cache-size')).toHaveText(formatBytes(wantBytes));
  await expect(row.getByTestId('cache-files')).toHaveText(String(NEEDED.length));
  await expect(row).toContainText('in use');
  const lastUsed = Date.parse((await row.locator('time').getAttribute('datetime'))!);
  expect(lastUsed).toBeGreaterThanOrEqual(t0);
  expect(lastUsed).toBeLessThanOrEqual(Date.now());
  const est = page.getByTestId('cache-estimate');
  expect(Number(await est.getAttribute('data-usage'))).toBeGreaterThan(0);
  expect(Number(await est.getAttribute('data-quota'))).toBeGreaterThan(0);
  // a table with column headers, the row named by its model
  await expect(page.getByRole('table').getByRole('columnheader')).toHaveText([
    'Model',
    'Folder',
    'Size',
    'Files',
    'Last used',
    'Actions',
  ]);

  // Cancel first: nothing is deleted
  await page.getByRole('button', { name: `Delete ${manifest.display_name} from the cache` }).click();
  await expect(page.getByTestId('cache-delete-cancel')).toBeFocused();
  await page.keyboard.press('Enter');
  expect((await cached(page, folder)).keys).toEqual(want);

  await page.getByRole('button', { name: `Delete ${manifest.display_name} from the cache` }).click();
  await page.getByRole('button', { name: `Yes, delete ${manifest.display_name} from the cache` }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId('announcer')).toHaveText(
    `${manifest.display_name} was removed from the cache (${NEEDED.length} files, ${formatBytes(wantBytes)}).`,
  );
  expect(await cached(page, folder)).toEqual({ keys: [], meta: false });
  // the model in use is in the worker's memory
  await processPicture(page, 'after-delete.png', 3);

  const fetched: string[] = [];
  context.on('request', (r) => {
    if (r.url().startsWith(folder)) fetched.push(r.url().slice(folder.length).split('?')[0]!);
  });
  await page.reload();
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready', { timeout: 120_000 });
  for (const f of NEEDED) expect(fetched, `${f.path} downloaded again`).toContain(f.path);
  expect(await cached(page, folder)).toEqual({ keys: want, meta: true });
  await openPanel(page);
  await expect(row.getByTestId('cache-size')).toHaveAttribute('value', String(wantBytes));
});

test('a full quota: the model is not cached, a notice says so, and the model works', async ({ page, ep }) => {
  test.setTimeout(180_000);
  await openApp(page, ep);
  const folder = await folderUrl(page);
  const worker = page.workers().find((w) => w.url().includes('inference.worker'));
  expect(worker, 'inference worker').toBeDefined();
  await worker!.evaluate(() => {
    Cache.prototype.put = () =>
      Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
  });
  await page.evaluate(async () => {
    await caches.delete('toklip-models-v1');
    await caches.delete('toklip-models-meta');
  });
  await expect(page.getByTestId('cache-notice')).toHaveCount(0);

  await page.getByTestId('model-folder').fill(MODEL);
  await page.getByTestId('model-load').click();
  const notice = page.getByTestId('cache-notice');
  await expect(notice).toHaveAttribute('data-reason', 'quota');
  await expect(notice).toContainText('could not be saved for offline use');
  await expect(notice).toContainText('storage is full');
  await expect(notice).toContainText('Model cache');
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready');
  await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', MODEL);
  await expect(page.getByTestId('model-load-error')).toHaveCount(0);
  await processPicture(page, 'quota-full.png', 3);
  expect(await cached(page, folder)).toEqual({ keys: [], meta: false });
  await page.getByTestId('cache-notice').getByRole('button', { name: 'Dismiss' }).click();
  await expect(notice).toHaveCount(0);
});

test('persistent storage is asked for once and the answer is shown', async ({ page, ep }) => {
  await openApp(page, ep);
  await openPanel(page);
  const persisted = await page.evaluate(() => navigator.storage.persisted());
  const section = page.getByTestId('cache-persistence');
  await expect(section).toHaveAttribute('data-persisted', String(persisted));
  test.skip(persisted, 'this browser profile is persistent already: nothing to ask');
  const ask = page.getByTestId('cache-persist');
  await expect(ask).toHaveAccessibleDescription(/storage pressure/);
  await ask.click();
  await expect(ask).toHaveCount(0);
  const stored = await page.evaluate(() => localStorage.getItem('toklip-storage-persist-asked'));
  const answer = JSON.parse(stored!) as { granted: boolean; at: number };
  const now = await page.evaluate(() => navigator.storage.persisted());
  expect(answer.granted, 'the remembered answer is what the browser now reports').toBe(now);
  await expect(section).toHaveAttribute('data-persisted', String(now));

  await page.reload();
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready', { timeout: 120_000 });
  await openPanel(page);
  await expect(page.getByTestId('cache-persist')).toHaveCount(0);
  if (!now) await expect(section).toContainText('asked on');
});
