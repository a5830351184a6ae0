/**
 * Privacy and security of the built app (served by `vite preview` with the production headers):
 * - every request the page and its workers make, while loading the model and processing images and prompts,
 *   goes to the app's own origin — no telemetry, fonts or CDNs;
 * - cross-origin isolation (COOP/COEP) is on, so WASM threads work;
 * - a strict Content-Security-Policy is in force: no inline script, no eval (only 'wasm-unsafe-eval', which
 *   onnxruntime-web's WebAssembly needs), no remote origins.
 */
import { testPicture } from './png';
import { expect, openApp, samplesInBuild, test } from './fixtures';

test.beforeEach(({ ep }) => test.skip(ep !== 'wasm', 'provider independent'));

test('nothing leaves the machine: every request goes to the app origin', async ({
  page,
  context,
  ep,
  baseURL,
}) => {
  const origin = new URL(baseURL!).origin;
  const seen: string[] = [];
  // context-level: includes requests from the page's dedicated workers
  context.on('request', (r) => seen.push(r.url()));
  await openApp(page, ep);
  await page.getByTestId('file-input').setInputFiles([
    { name: 'private-1.png', mimeType: 'image/png', buffer: testPicture(120, 90, 0) },
    { name: 'private-2.png', mimeType: 'image/png', buffer: testPicture(90, 120, 2) },
  ]);
  await expect(page.getByTestId('image-card').nth(1)).toHaveAttribute('data-status', 'done');
  await page.getByTestId('prompts').fill('a secret prompt\nanother private phrase');
  await expect(page.getByTestId('image-card').first()).toHaveAttribute('data-prompts', /a secret prompt/);
  // a bundled sample too: the model's manifest lists held-out samples in its folder, and the gallery must show
  // them (it is filled after the model, so wait for it rather than skip the step when it is late)
  const bundled = samplesInBuild();
  const samples = page.getByTestId('samples').getByRole('button');
  if (bundled > 0) {
    await expect(samples, 'bundled samples shown in the gallery').toHaveCount(bundled);
    await samples.first().click();
    await expect(page.getByTestId('image-card').nth(2)).toHaveAttribute('data-status', 'done');
    expect(
      seen.some((u) => /\/models\/[^/]+\/samples\//.test(u)),
      'the sample was fetched from the app',
    ).toBe(true);
  } else {
    await expect(page.getByTestId('no-samples')).toBeVisible();
  }
  await page.waitForTimeout(1000); // anything deferred (beacons, idle callbacks) would go now

  const foreign = seen.filter(
    (u) => !u.startsWith('blob:') && !u.startsWith('data:') && new URL(u).origin !== origin,
  );
  expect(foreign, 'requests to other origins').toEqual([]);
  expect(seen.some((u) => u.includes('/ort/'))).toBe(true); // onnxruntime's wasm is served by the app itself
  // no request carries the user's data (uploads, prompts in URLs)
  expect(seen.filter((u) => /secret|private/.test(u))).toEqual([]);
  // the only service worker is the app's own (offline use), from its origin and folder
  const workers = await page.evaluate(async () =>
    (await navigator.serviceWorker.getRegistrations()).map((r) => [
      r.scope,
      (r.active ?? r.waiting ?? r.installing)?.scriptURL,
    ]),
  );
  expect(workers, 'service workers').toEqual([[baseURL, new URL('sw.js', baseURL).href]]);
  // no web fonts at all (only locally installed ones)
  expect(await page.evaluate(() => document.fonts.size)).toBe(0);
  console.log(`${seen.length} requests, all to ${origin}`);
});

test('cross-origin isolated, with a strict CSP in force (headers and <meta>)', async ({ page, ep }) => {
  const response = await page.goto(`./?ep=${ep}`);
  const headers = response!.headers();
  expect(headers['cross-origin-opener-policy']).toBe('same-origin');
  expect(headers['cross-origin-embedder-policy']).toBe('require-corp');
  const csp = headers['content-security-policy'] ?? '';
  for (const d of [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ])
    expect(csp).toContain(d);
  expect(csp).not.toMatch(/'unsafe-inline'|'unsafe-eval'|https?:|\*/);
  // the built index.html carries the same policy as <meta> for static hosts without headers
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(meta).toContain("script-src 'self' 'wasm-unsafe-eval'");
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready', { timeout: 120_000 });

  const probe = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
    const w = window as Window & { __inlineRan?: boolean };
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.head.appendChild(s);
    // String code compiled by the page itself (DevTools-evaluated code, like this function, is exempt from CSP).
    const w2 = window as Window & { __evalRan?: boolean };
    (setTimeout as unknown as (code: string, ms: number) => number)('window.__evalRan = true', 0);
    let remoteBlocked = false;
    try {
      await fetch('https://example.com/telemetry');
    } catch {
      remoteBlocked = true;
    }
    await new Promise((r) => setTimeout(r, 200));
    return {
      isolated: crossOriginIsolated,
      sab: typeof SharedArrayBuffer === 'function',
      inlineRan: w.__inlineRan === true,
      evalBlocked: w2.__evalRan !== true,
      remoteBlocked,
      violations,
      threads: navigator.hardwareConcurrency,
    };
  });
  expect(probe.isolated).toBe(true);
  expect(probe.sab).toBe(true);
  expect(probe.inlineRan).toBe(false);
  expect(probe.evalBlocked).toBe(true);
  expect(probe.remoteBlocked).toBe(true);
  expect(probe.violations).toEqual(expect.arrayContaining(['script-src-elem', 'script-src', 'connect-src']));
  // WASM threads are in use (the provider line says how many)
  if (probe.threads > 1) await expect(page.getByTestId('provider-status')).toContainText(/\d+ threads/);
});
