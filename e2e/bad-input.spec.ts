/**
 * Bad and unusual input (WASM). Every fixture is written byte by byte at test time (e2e/images.ts). One page is
 * shared by the serial tests, so each case also proves that the earlier ones left the app (and its worker)
 * working; the last tests check that no card was disturbed and kill the worker on purpose.
 */
import type { Locator, Page } from '@playwright/test';
import {
  jpegWithDeclaredSize,
  makeGif,
  makeJpeg,
  makePng,
  makeZip,
  pngBomb,
  rgbToYcc,
  svgWithScript,
} from './images';
import { testPicture } from './png';
import { expect, openApp, test } from './fixtures';

type Payload = { name: string; mimeType: string; buffer: Buffer };

test.describe.configure({ mode: 'serial' });
test.skip(({ ep }) => ep !== 'wasm', 'input handling does not depend on the provider');

let page: Page;
const pageErrors: string[] = [];
const requests: string[] = [];

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));
  // Count calls into the browser's image decoder (refusals must happen before it).
  await page.addInitScript(() => {
    const w = window as Window & { __decodes?: number };
    const original = window.createImageBitmap.bind(window);
    w.__decodes = 0;
    window.createImageBitmap = ((...args: Parameters<typeof createImageBitmap>) => {
      w.__decodes!++;
      return original(...args);
    }) as typeof createImageBitmap;
  });
  await openApp(page, 'wasm', '&debug=1');
});

test.afterAll(async () => {
  await page.close();
});

const card = (name: string): Locator => page.locator(`[data-testid="image-card"][data-name="${name}"]`);
const decodes = () => page.evaluate(() => (window as Window & { __decodes?: number }).__decodes ?? 0);

async function add(files: Payload[]): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(files);
}

async function expectError(name: string, ...parts: (string | RegExp)[]): Promise<string> {
  const c = card(name);
  await expect(c).toHaveAttribute('data-status', 'error');
  const text = (await c.getByTestId('image-error').textContent()) ?? '';
  for (const p of parts) expect(text, `${name}: ${text}`).toMatch(p);
  return text;
}

async function expectDone(name: string): Promise<Locator> {
  const c = card(name);
  await expect(c, `${name} finished`).toHaveAttribute('data-status', 'done');
  return c;
}

/** RGBA of the model-input canvas (model resolution) at (x, y). */
async function inputPixel(c: Locator, x: number, y: number): Promise<number[]> {
  return c
    .getByTestId('model-input')
    .evaluate(
      (el, [px, py]) =>
        Array.from((el as HTMLCanvasElement).getContext('2d')!.getImageData(px!, py!, 1, 1).data),
      [x, y],
    );
}

function expectColour(actual: number[], want: number[], tol = 12): void {
  for (let i = 0; i < 3; i++)
    expect(Math.abs(actual[i]! - want[i]!), `pixel ${actual} vs ${want}`).toBeLessThanOrEqual(tol);
}

const png = (name: string, buffer: Buffer): Payload => ({ name, mimeType: 'image/png', buffer });
const jpg = (name: string, buffer: Buffer): Payload => ({ name, mimeType: 'image/jpeg', buffer });

/** Drops files on the drop zone as a real DataTransfer (what a drag from the file manager delivers). */
async function dropFiles(files: Payload[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.mimeType, b64: f.buffer.toString('base64') }));
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    const zone = document.querySelector('[data-testid="dropzone"]')!;
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
}

const RED = [220, 30, 40];
const BLUE = [30, 60, 220];

test('a good image first (the reference that must stay untouched)', async () => {
  await add([png('reference.png', testPicture(160, 120, 1))]);
  const c = await expectDone('reference.png');
  await expect(c).toHaveAttribute('data-ids', /\[\[/);
});

test('0-byte file', async () => {
  await add([png('empty.png', Buffer.alloc(0))]);
  await expectError('empty.png', 'the file is empty (0 bytes)');
});

test('truncated PNG', async () => {
  const full = testPicture(200, 150, 2);
  await add([png('cut.png', full.subarray(0, Math.floor(full.length * 0.6)))]);
  await expectError('cut.png', /this PNG file is truncated/);
});

test('truncated JPEG', async () => {
  const full = makeJpeg({
    width: 256,
    height: 192,
    components: 3,
    block: (x, y) => rgbToYcc([(x * 8) % 256, (y * 10) % 256, 128]),
  });
  await add([jpg('cut.jpg', full.subarray(0, Math.floor(full.length * 0.6)))]);
  await expectError('cut.jpg', /this JPEG file is truncated/);
});

test('a text file renamed .png', async () => {
  await add([png('notes.png', Buffer.from('Shopping list:\n- milk\n- bread\n'))]);
  await expectError('notes.png', 'plain text, not an image', '.png');
});

test('a ZIP archive', async () => {
  await add([{ name: 'holiday.zip', mimeType: 'application/zip', buffer: makeZip('beach.jpg') }]);
  await expectError('holiday.zip', 'ZIP archive', 'unpack it');
});

test('an SVG carrying a script is refused and its script never runs', async () => {
  const before = await decodes();
  await add([
    { name: 'evil.svg', mimeType: 'image/svg+xml', buffer: svgWithScript() },
    png('evil-svg.png', svgWithScript()), // same document under an image name and type
  ]);
  await expectError('evil.svg', 'SVG images are not accepted', 'scripts');
  await expectError('evil-svg.png', 'SVG images are not accepted');
  await page.waitForTimeout(500);
  expect(await page.evaluate(() => (window as Window & { __svgScriptRan?: string }).__svgScriptRan)).toBe(
    undefined,
  );
  expect(requests.filter((u) => u.includes('svg-script-ran'))).toEqual([]);
  // never handed to a decoder, never put in the document as a document (iframe/object/embed)
  expect(await decodes()).toBe(before);
  expect(await page.locator('iframe, object, embed').count()).toBe(0);
});

test('an animated GIF: first frame used, and the card says so', async () => {
  const gif = makeGif(
    48,
    48,
    [RED as [number, number, number], BLUE as [number, number, number]],
    [() => 0, () => 1],
  );
  await add([{ name: 'blink.gif', mimeType: 'image/gif', buffer: gif }]);
  const c = await expectDone('blink.gif');
  await expect(c.getByTestId('image-notes')).toContainText(
    'animated GIF (2 frames): only the first frame is used',
  );
  expectColour(await inputPixel(c, 64, 64), RED, 2);
});

test('a CMYK JPEG', async () => {
  // Adobe CMYK as Photoshop stores it (inverted: 255 = no ink): left red (M+Y), right blue (C+M), no black.
  const cmyk = makeJpeg({
    width: 64,
    height: 48,
    components: 4,
    block: (x) => (x < 4 ? [255, 0, 0, 255] : [0, 0, 255, 255]),
  });
  await add([jpg('print.jpg', cmyk)]);
  const c = await expectDone('print.jpg');
  await expect(c.getByTestId('image-notes')).toContainText('CMYK JPEG: converted to RGB');
  await expect(c).toContainText('64×48 px');
  expectColour(await inputPixel(c, 10, 64), [255, 0, 0], 40);
  expectColour(await inputPixel(c, 118, 64), [0, 0, 255], 40);
});

test('a 16-bit PNG', async () => {
  const p16 = makePng({
    width: 40,
    height: 40,
    colourType: 2,
    bitDepth: 16,
    sample: () => [RED[0]! * 257, RED[1]! * 257, RED[2]! * 257],
  });
  await add([png('deep.png', p16)]);
  const c = await expectDone('deep.png');
  await expect(c.getByTestId('image-notes')).toContainText('16 bits per channel');
  expectColour(await inputPixel(c, 64, 64), RED, 1);
});

test('a grayscale and a palette PNG', async () => {
  const gray = makePng({ width: 32, height: 32, colourType: 0, bitDepth: 8, sample: () => [200] });
  const pal = makePng({
    width: 32,
    height: 32,
    colourType: 3,
    bitDepth: 8,
    palette: [RED as [number, number, number], BLUE as [number, number, number]],
    sample: (x) => [x < 16 ? 0 : 1],
  });
  await add([png('gray.png', gray), png('palette.png', pal)]);
  const g = await expectDone('gray.png');
  expectColour(await inputPixel(g, 64, 64), [200, 200, 200], 1);
  const p = await expectDone('palette.png');
  expectColour(await inputPixel(p, 10, 64), RED, 1);
  expectColour(await inputPixel(p, 118, 64), BLUE, 1);
});

test('a PNG with alpha: transparency is dropped as TokLIP does, not composited on white', async () => {
  const rgba = makePng({
    width: 32,
    height: 32,
    colourType: 6,
    bitDepth: 8,
    sample: (x) => (x < 16 ? [0, 0, 0, 0] : [...BLUE, 255]),
  });
  await add([png('alpha.png', rgba)]);
  const c = await expectDone('alpha.png');
  // Black: the colour stored under the transparent half, and what Pillow's premultiplied resize leaves of any
  // colour under full transparency; compositing on white would show white.
  expectColour(await inputPixel(c, 10, 64), [0, 0, 0], 1);
  expectColour(await inputPixel(c, 118, 64), BLUE, 1);
});

test('an EXIF-rotated JPEG is shown upright', async () => {
  // Stored 64×32, red left / blue right, EXIF orientation 6 (rotate 90° clockwise): upright it is 32×64 with
  // red on top and blue below.
  const jpeg = makeJpeg({
    width: 64,
    height: 32,
    components: 3,
    block: (bx) => rgbToYcc(bx < 4 ? RED : BLUE),
    orientation: 6,
  });
  await add([jpg('rotated.jpg', jpeg)]);
  const c = await expectDone('rotated.jpg');
  await expect(c).toContainText('32×64 px');
  await expect(c.getByTestId('image-notes')).toContainText('EXIF orientation 6');
  expectColour(await inputPixel(c, 64, 20), RED);
  expectColour(await inputPixel(c, 64, 108), BLUE);
});

test('a 1×1 image', async () => {
  await add([
    png('dot.png', makePng({ width: 1, height: 1, colourType: 2, bitDepth: 8, sample: () => RED })),
  ]);
  const c = await expectDone('dot.png');
  await expect(c).toContainText('1×1 px');
  await expect(c.getByTestId('image-notes')).toContainText('tiny image');
  expectColour(await inputPixel(c, 0, 0), RED, 0);
  expectColour(await inputPixel(c, 127, 127), RED, 0);
});

test('an extreme aspect ratio: 10000×8', async () => {
  const strip = makePng({
    width: 10000,
    height: 8,
    colourType: 2,
    bitDepth: 8,
    sample: (x) => (x < 5000 ? RED : BLUE),
  });
  await add([png('strip.png', strip)]);
  const c = await expectDone('strip.png');
  await expect(c).toContainText('10000×8 px');
  await expect(c.getByTestId('image-notes')).toContainText('only the central 8×8 square is used');
});

test('decompression bombs are refused from the header, before decoding, with the limit stated', async () => {
  const before = await decodes();
  const smallJpeg = makeJpeg({ width: 16, height: 16, components: 3, block: () => rgbToYcc(RED) });
  await add([
    png('bomb.png', pngBomb(100_000, 100_000)),
    jpg('bomb.jpg', jpegWithDeclaredSize(smallJpeg, 60_000, 50_000)),
  ]);
  await expectError('bomb.png', 'declares 100000×100000 pixels', '64 Mi pixels', 'refused before decoding');
  await expectError(
    'bomb.jpg',
    'declares 60000×50000 pixels',
    '32767 px per side',
    'refused before decoding',
  );
  expect(await decodes(), 'the browser decoder was never called for a bomb').toBe(before);
});

test('50 files dropped at once: queued, with progress and cancel', async () => {
  const files = Array.from({ length: 50 }, (_, i) =>
    png(`batch-${String(i).padStart(2, '0')}.png`, testPicture(48, 48, i % 5)),
  );
  await dropFiles(files);
  const batch = page.locator('[data-testid="image-card"][data-name^="batch-"]');
  await expect(batch).toHaveCount(50);
  await expect(page.getByTestId('queue-status')).toContainText('of 50 processed');
  await expect(
    page.locator('[data-testid="image-card"][data-name^="batch-"][data-status="done"]').nth(1),
  ).toBeVisible();
  await page.getByTestId('queue-cancel').click();
  await expect(page.getByTestId('queue-progress')).toBeHidden();
  const statuses = await batch.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  const done = statuses.filter((s) => s === 'done').length;
  const cancelled = statuses.filter((s) => s === 'cancelled').length;
  expect(done).toBeGreaterThanOrEqual(2);
  expect(cancelled).toBeGreaterThanOrEqual(10);
  expect(done + cancelled).toBe(50);
  // A cancelled image can be processed later.
  const first = page
    .locator('[data-testid="image-card"][data-name^="batch-"][data-status="cancelled"]')
    .first();
  const name = (await first.getAttribute('data-name'))!;
  await first.getByRole('button', { name: 'Process it' }).click();
  await expectDone(name);
  console.log(`50 dropped: ${done} processed before cancel, ${cancelled} cancelled`);
});

test('a folder dropped: its images (recursively) are added, other files are explained', async () => {
  const files = {
    'a.png': png('a.png', testPicture(64, 48, 3)).buffer.toString('base64'),
    'b.png': png('b.png', testPicture(48, 64, 4)).buffer.toString('base64'),
    'readme.txt': Buffer.from('holiday photos').toString('base64'),
  };
  await page.evaluate((f) => {
    const file = (name: string, type: string) => {
      const bin = atob(f[name as keyof typeof f]);
      const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
      return new File([bytes], name, { type });
    };
    const fileEntry = (name: string, type: string) => ({
      isFile: true,
      isDirectory: false,
      name,
      file: (ok: (x: File) => void) => ok(file(name, type)),
    });
    // readEntries hands out its entries in batches, like Chromium (≤ 100 per call)
    const dirEntry = (name: string, batches: unknown[][]) => ({
      isFile: false,
      isDirectory: true,
      name,
      createReader: () => {
        let i = 0;
        return { readEntries: (ok: (x: unknown[]) => void) => ok(batches[i++] ?? []) };
      },
    });
    const sub = dirEntry('sub', [[fileEntry('b.png', 'image/png')]]);
    const root = dirEntry('holiday', [
      [fileEntry('a.png', 'image/png'), { ...fileEntry('.DS_Store', ''), name: '.DS_Store' }],
      [sub, fileEntry('readme.txt', 'text/plain')],
    ]);
    const dt = { items: [{ kind: 'file', webkitGetAsEntry: () => root }], files: [], types: ['Files'] };
    const ev = new DragEvent('drop', { bubbles: true, cancelable: true });
    Object.defineProperty(ev, 'dataTransfer', { value: dt });
    document.querySelector('[data-testid="dropzone"]')!.dispatchEvent(ev);
  }, files);
  await expectDone('a.png');
  await expectDone('b.png');
  await expectError('readme.txt', 'plain text, not an image');
  await expect(card('.DS_Store')).toHaveCount(0);
});

test('the reference image was never touched, and the worker never restarted', async () => {
  const ref = card('reference.png');
  await expect(ref).toHaveAttribute('data-status', 'done');
  await expect(page.getByTestId('worker-notice')).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});

test('if the worker dies it is restarted, the user is told, and the work finishes', async () => {
  const refIds = await card('reference.png').getAttribute('data-ids');
  const refTimings = await card('reference.png').getByTestId('timings').textContent();
  await add([png('during-crash.png', testPicture(128, 128, 4))]);
  await expect(card('during-crash.png')).toHaveAttribute(
    'data-status',
    /tokenizing|reconstructing|embedding/,
  );
  await page.evaluate(() =>
    (
      window as Window & { __toklipDebug?: { crashWorker: () => Promise<unknown> } }
    ).__toklipDebug!.crashWorker(),
  );
  await expect(page.getByTestId('worker-notice')).toContainText('The inference worker stopped');
  await expect(page.getByTestId('worker-notice')).toContainText('restarted');
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready');
  await expectDone('during-crash.png');
  // finished images are kept as they were (not recomputed)
  expect(await card('reference.png').getAttribute('data-ids')).toBe(refIds);
  expect(await card('reference.png').getByTestId('timings').textContent()).toBe(refTimings);
  // and the new worker takes new work
  await add([png('after-crash.png', testPicture(96, 96, 0))]);
  await expectDone('after-crash.png');
});
