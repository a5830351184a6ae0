/**
 * A model folder from a URL on another origin. The app is built once here with TOKLIP_MODEL_ORIGINS naming
 * four model hosts (e2e/staticServer.ts on 127.0.0.1 ports, each serving public/models under /m/), and served
 * like `vite preview` serves dist/ (COOP/COEP, the build's CSP as a header too), so the page is cross-origin
 * isolated and the CSP is in force for the page and its workers:
 * - a host with CORS and Range: ?model=<url> loads toklip-tiny from it and a picture gives what
 *   onnxruntime-node computes on the same folder; its samples show; a table model's rows come by Range;
 * - the same host, a folder that is not there (404); a host answering every missing file with an HTML page;
 *   a host without CORS; a host without Range (rows of the token table, ?table=range): each load is refused
 *   with a message naming the file and the cause, and the bundled model stays in use and works;
 * - a fifth host, as good as the first but not in the build's list: refused by the app before any request,
 *   with the setting to add it.
 * And the default build (the suite's dist/, served by vite preview) refuses any other origin the same way.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { processAndCompare } from './processCheck';
import { serveStatic, type ServeOptions, type StaticServer } from './staticServer';
import { loadFolder, expectStillUsable } from './modelPanel';
import { expect, samplesInBuild, test } from './fixtures';

const ROOT = resolve(import.meta.dirname, '..');
const MODELS = resolve(ROOT, 'public/models');
const BUNDLED = 'toklip-tiny';
/** a model with a token-embedding table (rows by Range), made by scripts/test.sh before the e2e suite */
const TABLE_MODEL = 'synthetic-official-fp32';
const BASE = Number(process.env.PW_PORT ?? 4173) + 10;
const APP_PORT = BASE;
const HOSTS = {
  good: { port: BASE + 1, opts: { cors: true, range: true } },
  html: { port: BASE + 2, opts: { cors: true, range: true, htmlFallback: true } },
  nocors: { port: BASE + 3, opts: { range: true } },
  norange: { port: BASE + 4, opts: { cors: true } },
} satisfies Record<string, { port: number; opts: ServeOptions }>;
/** as good as `good`, but left out of the build's allow-list */
const OUTSIDE_PORT = BASE + 5;
const origin = (port: number) => `http://127.0.0.1:${port}`;
const folder = (port: number, id: string) => `${origin(port)}/m/${id}/`;

let dist: string;
let app: StaticServer;
const hosts = {} as Record<keyof typeof HOSTS, StaticServer>;
let outside: StaticServer;

test.describe('model folders from a URL', () => {
  test.skip(({ ep }) => ep !== 'wasm', 'provider independent');

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    dist = mkdtempSync(join(tmpdir(), 'toklip-url-dist-'));
    const allowed = Object.values(HOSTS)
      .map((h) => origin(h.port))
      .join(' ');
    execFileSync('npx', ['vite', 'build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: ROOT,
      env: { ...process.env, TOKLIP_MODEL_ORIGINS: allowed },
      stdio: 'inherit',
    });
    const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(
      readFileSync(join(dist, 'index.html'), 'utf8'),
    );
    const csp = meta![1]!.replaceAll('&#39;', "'");
    app = await serveStatic(dist, APP_PORT, '/', {
      headers: {
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
        'Content-Security-Policy': csp,
      },
    });
    for (const [name, h] of Object.entries(HOSTS))
      hosts[name as keyof typeof HOSTS] = await serveStatic(MODELS, h.port, '/m/', h.opts);
    outside = await serveStatic(MODELS, OUTSIDE_PORT, '/m/', { cors: true, range: true });
  });

  test.afterAll(async () => {
    await Promise.all([app, outside, ...Object.values(hosts)].filter(Boolean).map((s) => s.close()));
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  async function open(page: Page, query = ''): Promise<void> {
    await page.goto(`${app.url}?ep=wasm${query}`);
    await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready', { timeout: 120_000 });
  }

  test('a folder on an allowed host with CORS: loads from there, same numbers as onnxruntime-node', async ({
    page,
    consoleErrors,
  }) => {
    test.setTimeout(240_000);
    const url = folder(HOSTS.good.port, BUNDLED);
    const response = await page.goto(`${app.url}?ep=wasm&table=range&model=${encodeURIComponent(url)}`);
    expect(response!.headers()['content-security-policy']).toContain(
      `connect-src 'self' ${Object.values(HOSTS)
        .map((h) => origin(h.port))
        .join(' ')}`,
    );
    await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready', { timeout: 120_000 });
    await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', url);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

    await processAndCompare(page, 0, 3);

    const good = hosts.good.requests;
    for (const f of ['manifest.json', 'vq_encoder.onnx', 'vq_decoder.onnx', 'semantic_encoder.onnx'])
      expect(good, `${f} from the model host`).toContain(`/m/${BUNDLED}/${f}`);
    expect(
      app.requests.filter((u) => u.endsWith('.onnx')),
      'no model graph from the app origin',
    ).toEqual([]);

    // the samples come from the model's folder too (<img> with CORS; the click fetches and verifies one)
    const thumbs = page.getByTestId('samples').locator('img');
    await expect(thumbs).toHaveCount(samplesInBuild());
    if (samplesInBuild() > 0) {
      await expect(thumbs.first()).toHaveAttribute('src', new RegExp(`^${url}samples/`));
      await expect
        .poll(() => thumbs.first().evaluate((im: HTMLImageElement) => im.naturalWidth))
        .toBeGreaterThan(0);
      await page.getByTestId('samples').getByRole('button').first().click();
      await expect(page.getByTestId('image-card').nth(1)).toHaveAttribute('data-status', 'done');
    }

    // a model whose text encoder reads rows of a token table: by Range requests across origins (?table=range);
    // its prompts are embedded from those rows (images removed first: this check is about the text side)
    const table = folder(HOSTS.good.port, TABLE_MODEL);
    expect(
      existsSync(join(MODELS, TABLE_MODEL)),
      `public/models/${TABLE_MODEL} (scripts/test.sh makes it)`,
    ).toBe(true);
    await page.getByTestId('clear-images').click();
    await loadFolder(page, table);
    await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', table, {
      timeout: 120_000,
    });
    await expect(page.getByTestId('model-facts')).toHaveAttribute('data-table-mode', 'range');
    await expect(page.getByTestId('text-status')).toHaveText(/^text encoder \d/);
    expect(good).toContain(`/m/${TABLE_MODEL}/text_embedding.bin`);
    expect(consoleErrors).toEqual([]);
  });

  const faults: { name: string; url: () => string; expect: string[] }[] = [
    {
      name: 'a folder that is not there (404)',
      url: () => folder(HOSTS.good.port, 'no-such-model'),
      expect: [
        `could not read manifest.json: HTTP 404 (no manifest.json at ${folder(HOSTS.good.port, 'no-such-model')})`,
        'File: manifest.json',
      ],
    },
    {
      name: 'a host that answers with an HTML page',
      url: () => folder(HOSTS.html.port, 'no-such-model'),
      expect: [
        'could not read manifest.json: the server answered with an HTML page, not the file: no such model folder',
        'File: manifest.json',
      ],
    },
    {
      name: 'a host without CORS',
      url: () => folder(HOSTS.nocors.port, BUNDLED),
      expect: [
        `the server at ${origin(HOSTS.nocors.port)} does not allow cross-origin requests (CORS) for manifest.json`,
        'Access-Control-Allow-Origin',
        'File: manifest.json',
      ],
    },
    {
      name: 'a host without Range requests, the token table read by rows',
      url: () => folder(HOSTS.norange.port, TABLE_MODEL),
      expect: [
        'the server answered a Range request for text_embedding.bin with the whole file (HTTP 200)',
        'needs a host that supports HTTP Range requests',
        'File: text_embedding.bin',
      ],
    },
    {
      name: 'a host outside the build’s allow-list',
      url: () => folder(OUTSIDE_PORT, BUNDLED),
      expect: [
        `${origin(OUTSIDE_PORT)} is not in this build's allow-list of model origins`,
        `TOKLIP_MODEL_ORIGINS="${[...Object.values(HOSTS).map((h) => origin(h.port)), origin(OUTSIDE_PORT)].join(' ')}" npm run build`,
      ],
    },
  ];

  // One page for all: each refused load must leave the bundled model in use and working.
  test('each fault is refused with its file and cause, the model in use stays usable', async ({
    page,
    consoleErrors,
  }) => {
    test.setTimeout(300_000);
    expect(
      existsSync(join(MODELS, TABLE_MODEL)),
      `public/models/${TABLE_MODEL} (scripts/test.sh makes it)`,
    ).toBe(true);
    await open(page, '&table=range'); // the bundled model has no token table: only the no-Range case reads rows
    for (const [i, c] of faults.entries()) {
      await test.step(c.name, async () => {
        const url = c.url();
        await loadFolder(page, url);
        const err = page.getByTestId('model-load-error');
        await expect(err).toContainText(`The model “${url}” could not be loaded.`);
        for (const part of c.expect) await expect(err).toContainText(part);
        await expect(err).toContainText('Still using TokLIP');
        await expectStillUsable(page, `after-${i}.png`);
      });
    }
    expect(outside.requests, 'nothing requested from the host outside the list').toEqual([]);
    // the browser itself logs the 404 and the answer without CORS headers
    expect(consoleErrors.filter((e) => !/404|Failed to load resource|CORS policy/.test(e))).toEqual([]);
  });
});

test('the default build loads models from its own origin only, and says how to allow another', async ({
  page,
  ep,
}) => {
  test.skip(ep !== 'wasm', 'provider independent');
  const url = 'http://127.0.0.1:9/models/toklip-tiny/';
  const seen: string[] = [];
  page.context().on('request', (r) => seen.push(r.url()));
  await page.goto(`./?ep=wasm&model=${encodeURIComponent(url)}`);
  const err = page.getByTestId('model-error');
  await expect(err).toContainText(
    "http://127.0.0.1:9 is not in this build's allow-list of model origins (besides its own origin, it allows none)",
  );
  await expect(err).toContainText('TOKLIP_MODEL_ORIGINS="http://127.0.0.1:9" npm run build');
  expect(seen.filter((u) => u.startsWith('http://127.0.0.1:9/'))).toEqual([]);
});
