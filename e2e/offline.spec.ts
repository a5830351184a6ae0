/**
 * Offline and installable: after one visit the production build works with no network. The app is served by a
 * plain static server of this test (e2e/staticServer.ts) so the test sees every request that reaches the
 * network: once the browser is offline, none may arrive. The first visit processes a picture (that is what
 * fills the inference worker's verified model cache) and waits for the service worker; then the context goes
 * offline — checked from the page and from inside the service worker, since offline emulation and service
 * workers have not always agreed in Chromium — the page is reloaded and processes another picture, checked
 * against onnxruntime-node.
 */
import { resolve } from 'node:path';
import { processAndCompare } from './processCheck';
import { serveStatic, type StaticServer } from './staticServer';
import { expect, test } from './fixtures';

const PORT = Number(process.env.PW_PORT ?? 4173) + 2;
const PREFIX = '/offline/app/';
let server: StaticServer;

test.beforeAll(async () => {
  server = await serveStatic(resolve(import.meta.dirname, '../dist'), PORT, PREFIX);
});
test.afterAll(async () => server.close());
test.beforeEach(({ ep }) => test.skip(ep !== 'wasm', 'provider independent'));

const probe = (name: string) =>
  fetch(`./${name}`, { cache: 'no-store' }).then(
    (r) => `reached (HTTP ${r.status})`,
    () => 'blocked',
  );

test('installable: a web app manifest with icons, served from the app folder', async ({ page }) => {
  await page.goto(`${server.url}?ep=wasm`);
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  const manifestUrl = new URL(href!, server.url).href;
  expect(manifestUrl).toBe(`${server.url}manifest.webmanifest`);
  const manifest = (await (await page.request.get(manifestUrl)).json()) as {
    name: string;
    start_url: string;
    display: string;
    icons: { src: string; sizes: string; type: string; purpose: string }[];
  };
  expect(manifest.name).toBe('TokLIP Studio');
  expect(manifest.display).toBe('standalone');
  expect(new URL(manifest.start_url, manifestUrl).href).toBe(server.url);
  for (const size of [192, 512]) {
    const icon = manifest.icons.find((i) => i.sizes === `${size}x${size}` && i.purpose === 'any');
    expect(icon, `a ${size}px icon`).toBeDefined();
    const res = await page.request.get(new URL(icon!.src, manifestUrl).href);
    expect(res.headers()['content-type']).toBe('image/png');
    const png = await res.body();
    // PNG signature, then IHDR width and height
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([size, size]);
  }
  expect(manifest.icons.some((i) => i.purpose === 'maskable')).toBe(true);
});

test('after one visit, the app and the bundled model work with no network', async ({ page, context }) => {
  // console errors with where they come from: the probes below fail on purpose
  test.setTimeout(300_000); // two loads and two pictures on one WASM thread (no COOP/COEP from this server)
  const t0 = Date.now();
  const phase = (name: string) => console.log(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}?ep=wasm`);
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready', { timeout: 120_000 });
  await processAndCompare(page, 0, 0);
  phase('first visit, picture checked');
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope, 'the service worker covers the app folder').toBe(server.url);
  const sw = context.serviceWorkers().find((w) => w.url() === `${server.url}sw.js`);
  expect(sw, 'the service worker is running').toBeDefined();

  // Offline twice over: Chromium's emulation for the page, its workers and the service worker, and the server
  // dropping every connection, because the browser's own update check of sw.js bypasses the emulation.
  phase('service worker ready');
  await context.setOffline(true);
  server.setDown(true);
  const seenOnline = server.requests.length;
  expect(await page.evaluate(probe, 'probe-from-page.txt'), 'the page cannot reach the network').toBe(
    'blocked',
  );
  expect(await sw!.evaluate(probe, 'probe-from-sw.txt'), 'the service worker cannot either').toBe('blocked');

  await page.reload();
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready', { timeout: 120_000 });
  expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}sw.js`);
  phase('offline reload, model ready');
  await processAndCompare(page, 0, 1);
  phase('offline picture checked');
  expect(await page.evaluate(probe, 'probe-after-reload.txt'), 'still offline after the reload').toBe(
    'blocked',
  );
  // all that reached the (dropping) server: the browser's update checks of the service worker script, which
  // failed — nothing the page, the inference worker or the service worker's fetch handler asked for
  const leaked = server.requests.slice(seenOnline);
  expect(
    leaked.filter((u) => u !== `${PREFIX}sw.js`),
    'requests that reached the server while offline',
  ).toEqual([]);
  console.log(`offline: ${leaked.length} update check(s) of sw.js reached the server and were dropped`);
  expect(errors.filter((e) => !/probe-/.test(e))).toEqual([]);
  await context.setOffline(false);
  server.setDown(false);
});
