/**
 * Host anywhere: the production build (dist/) served from a sub-path by a plain static server
 * (e2e/staticServer.ts: no COOP/COEP, no CSP header, no Range) on another 127.0.0.1 port. The page is then not
 * cross-origin isolated, so WASM must run on one thread and the header must say why; every request must stay
 * under the sub-path (no root-absolute URL for the worker, /ort/ runtime or model files); and a picture is
 * processed with results checked against onnxruntime-node.
 */
import { resolve } from 'node:path';
import { processAndCompare } from './processCheck';
import { serveStatic, type StaticServer } from './staticServer';
import { expect, test } from './fixtures';

const PORT = Number(process.env.PW_PORT ?? 4173) + 1;
const PREFIX = '/some/sub/path/';
let server: StaticServer;

test.beforeAll(async () => {
  server = await serveStatic(resolve(import.meta.dirname, '../dist'), PORT, PREFIX);
});
test.afterAll(async () => server.close());
test.beforeEach(({ ep }) => test.skip(ep !== 'wasm', 'WASM only: the static host is about isolation'));

test('dist/ under a sub-path on a plain static host: single-threaded WASM, says why, correct results', async ({
  page,
  consoleErrors,
}) => {
  test.setTimeout(240_000); // one WASM thread on a shared machine
  await page.goto(`${server.url}?ep=wasm`);
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready', { timeout: 120_000 });
  await expect(page.getByTestId('app')).toHaveAttribute('data-provider', 'wasm');
  expect(await page.evaluate(() => crossOriginIsolated), 'no COOP/COEP from this host').toBe(false);
  await expect(page.getByTestId('provider-status')).toContainText('1 thread');
  await expect(page.getByTestId('isolation-notice')).toContainText('not cross-origin isolated');

  await processAndCompare(page, 0, 0);

  const outside = server.requests.filter((u) => !u.startsWith(PREFIX));
  expect(outside, 'requests outside the sub-path').toEqual([]);
  for (const part of [
    'ort/ort-wasm-simd-threaded.asyncify.wasm',
    'models/toklip-tiny/manifest.json',
    'assets/',
  ])
    expect(
      server.requests.some((u) => u.startsWith(PREFIX + part)),
      `${part} fetched from the sub-path`,
    ).toBe(true);
  expect(consoleErrors).toEqual([]);
});
