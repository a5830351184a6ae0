/**
 * A model folder opened from this computer (issue 13, item 1): the folder input is given a real folder on disk
 * (Playwright uploads a directory to an <input webkitdirectory>), copied from the bundled model or a synthetic
 * official-layout export into a temporary folder under another name, and broken on purpose where a test says so.
 * Numbers are compared with the same model loaded from the site (identical bytes: identical results) and, for the
 * official layout read by table rows, with onnxruntime-node on the same folder (e2e/nodeReference.ts).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { validateManifest } from '../src/lib/manifest';
import { expect, openApp, test } from './fixtures';
import { cosines, NodeReference, squarePicture } from './nodeReference';
import { dropFolder, expectStillUsable } from './modelPanel';
import { testPicture } from './png';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLED = 'toklip-tiny';
const OFFICIAL = 'synthetic-official-fp32';

const temps: string[] = [];
test.afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of public/models/<id> at <temp>/<name>, changed by `edit` (which gets the copy's path). */
function copyModel(id: string, name: string, edit: (dir: string) => void = () => undefined): string {
  const from = resolve(ROOT, 'public/models', id);
  if (!existsSync(join(from, 'manifest.json'))) {
    throw new Error(
      `${from} is missing: make it from the repository root with .venv/bin/toklip-synth-official --depth shallow ` +
        '--out /tmp/synth-shallow --export public/models --id synthetic-official --dtype fp32 int8 fp16 q4',
    );
  }
  const tmp = mkdtempSync(join(tmpdir(), 'toklip-local-'));
  temps.push(tmp);
  const dir = join(tmp, name);
  cpSync(from, dir, { recursive: true, dereference: true });
  edit(dir);
  return dir;
}

async function openFolder(page: Page, dir: string): Promise<void> {
  await page.getByTestId('model-folder-input').setInputFiles(dir);
}

const card = (page: Page, name: string) => page.locator(`[data-testid="image-card"][data-name="${name}"]`);

async function addPicture(page: Page, name: string, png: Buffer): Promise<void> {
  await page.getByTestId('file-input').setInputFiles([{ name, mimeType: 'image/png', buffer: png }]);
  await expect(card(page, name)).toHaveAttribute('data-status', 'done');
}

async function readCard(page: Page, name: string): Promise<{ ids: number[]; cosines: number[] }> {
  const c = card(page, name);
  return {
    ids: (JSON.parse((await c.getAttribute('data-ids'))!) as number[][]).flat(),
    cosines: JSON.parse((await c.getAttribute('data-cosines'))!) as number[],
  };
}

test.describe('a model folder from disk', () => {
  test.skip(({ ep }) => ep !== 'wasm', 'provider independent (the folder is read the same way)');

  test('a copy of the bundled model gives the site model’s ids and cosines, samples included, nothing cached', async ({
    page,
    ep,
    consoleErrors,
  }) => {
    const dir = copyModel(BUNDLED, 'my-tiny-copy');
    await openApp(page, ep);
    const png = testPicture(120, 90, 3);
    await addPicture(page, 'site.png', png);
    const site = await readCard(page, 'site.png');

    await openFolder(page, dir);
    await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', 'my-tiny-copy');
    await expect(page.getByTestId('model-source')).toHaveAttribute('data-source', 'disk');
    await expect(page.getByTestId('model-source')).toContainText('disk: my-tiny-copy');
    await addPicture(page, 'disk.png', png);
    await expect(card(page, 'disk.png')).toHaveAttribute(
      'data-prompts',
      (await card(page, 'site.png').getAttribute('data-prompts'))!,
    );
    const disk = await readCard(page, 'disk.png');
    expect(disk.ids).toEqual(site.ids);
    expect(disk.cosines.length).toBe(site.cosines.length);
    const maxDelta = Math.max(...disk.cosines.map((c, i) => Math.abs(c - site.cosines[i]!)));
    console.log(
      `local folder ${BUNDLED} copy: ${disk.ids.length} ids identical, max |Δcos| vs site ${maxDelta}`,
    );
    expect(maxDelta).toBeLessThanOrEqual(1e-6);

    // The manifest's samples are shown from the folder's own files (blob: URLs) and open as images.
    const listed = (
      JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { samples?: { title: string }[] }
    ).samples;
    expect(listed?.length, 'the bundled model lists samples').toBeGreaterThan(0);
    const imgs = page.getByTestId('samples').locator('img');
    await expect(imgs).toHaveCount(listed!.length);
    for (const img of await imgs.all()) {
      await img.scrollIntoViewIfNeeded();
      await expect(img).toHaveAttribute('src', /^blob:/);
      await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBeGreaterThan(0);
    }
    await page.getByTestId('samples').locator('button').first().click();
    await expect(page.getByTestId('image-card')).toHaveCount(3);
    await expect(page.getByTestId('image-card').nth(2)).toHaveAttribute('data-status', 'done');

    // Files read from this computer are not copied into Cache Storage.
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const urls: string[] = [];
      for (const n of names) for (const r of await (await caches.open(n)).keys()) urls.push(r.url);
      return urls;
    });
    expect(cached.filter((u) => u.startsWith('disk:'))).toEqual([]);
    expect(
      cached.some((u) => u.includes(`/models/${BUNDLED}/`)),
      'the site model was cached',
    ).toBe(true);
    expect(consoleErrors).toEqual([]);
  });

  test('the “Open folder from disk…” button walks the directory picker’s folder, sub-folders included', async ({
    page,
    ep,
    consoleErrors,
  }) => {
    // Playwright cannot drive the native picker: this stand-in hands out the bundled model's files (fetched from
    // the site) as directory and file handles, samples/ as a sub-folder.
    await page.addInitScript(() => {
      type Handle =
        | { kind: 'file'; name: string; getFile(): Promise<File> }
        | { kind: 'directory'; name: string; values(): AsyncGenerator<Handle> };
      const dir = (name: string, children: Handle[]): Handle => ({
        kind: 'directory',
        name,
        async *values() {
          yield* children;
        },
      });
      (window as unknown as { showDirectoryPicker: () => Promise<Handle> }).showDirectoryPicker =
        async () => {
          const base = new URL('models/toklip-tiny/', document.baseURI);
          const m = (await (await fetch(new URL('manifest.json', base))).json()) as {
            files: { path: string }[];
            samples?: { file: string }[];
          };
          const paths = [
            'manifest.json',
            ...m.files.map((f) => f.path),
            ...(m.samples ?? []).map((x) => x.file),
          ];
          const file = (path: string): Handle => ({
            kind: 'file',
            name: path.split('/').pop()!,
            getFile: async () =>
              new File([await (await fetch(new URL(path, base))).blob()], path.split('/').pop()!),
          });
          const top = paths.filter((p) => !p.includes('/')).map(file);
          const sub = paths.filter((p) => p.startsWith('samples/')).map(file);
          return dir('picked-tiny', [...top, dir('samples', sub), dir('.git', [])]);
        };
    });
    await openApp(page, ep);
    const button = page.getByRole('button', { name: 'Open folder from disk…' });
    await button.focus();
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', 'picked-tiny');
    await expect(page.getByTestId('model-source')).toContainText('disk: picked-tiny');
    await expect(page.getByTestId('samples').locator('img').first()).toHaveAttribute('src', /^blob:/);
    await addPicture(page, 'picked.png', testPicture(64, 64, 1));
    expect(consoleErrors).toEqual([]);
  });

  test('a folder dropped on the model panel is walked in batches and loaded, sub-folders included', async ({
    page,
    ep,
    consoleErrors,
  }) => {
    await openApp(page, ep);
    const m = JSON.parse(readFileSync(resolve(ROOT, 'public/models', BUNDLED, 'manifest.json'), 'utf8')) as {
      files: { path: string }[];
      samples?: { file: string }[];
    };
    const paths = ['manifest.json', ...m.files.map((f) => f.path), ...(m.samples ?? []).map((x) => x.file)];
    await dropFolder(
      page,
      '[data-testid="model-panel"]',
      'dropped-tiny',
      Object.fromEntries(paths.map((p) => [p, `models/${BUNDLED}/${p}`])),
      { batch: 3, extraDirs: ['.git'] },
    );
    await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', 'dropped-tiny');
    await expect(page.getByTestId('model-source')).toContainText('disk: dropped-tiny');
    await expect(page.getByTestId('samples').locator('img').first()).toHaveAttribute('src', /^blob:/);
    await addPicture(page, 'dropped.png', testPicture(64, 64, 1));
    expect(consoleErrors).toEqual([]);
  });

  const broken: {
    name: string;
    edit: (dir: string) => void;
    expect: (string | RegExp)[];
  }[] = [
    {
      name: 'no-manifest',
      edit: (dir) => unlinkSync(join(dir, 'manifest.json')),
      expect: ['the folder “no-manifest” has no manifest.json at its top level', 'File: manifest.json'],
    },
    {
      name: 'outside-path',
      edit: (dir) => {
        const file = join(dir, 'manifest.json');
        const m = JSON.parse(readFileSync(file, 'utf8')) as { files: { role: string; path: string }[] };
        m.files.find((f) => f.role === 'vq_decoder')!.path = '../vq_decoder.onnx';
        writeFileSync(file, JSON.stringify(m));
      },
      expect: [
        /manifest\.files\[\d+\]\.path: expected a relative path inside the model folder \(no '\.\.', no scheme\), got "\.\.\/vq_decoder\.onnx"/,
        'File: manifest.json',
      ],
    },
    {
      name: 'wrong-sha',
      edit: (dir) => {
        const file = join(dir, 'semantic_encoder.onnx');
        const b = readFileSync(file);
        const i = b.length >> 1;
        b[i] = b[i]! ^ 0x01; // one bit, same size
        writeFileSync(file, b);
      },
      expect: [
        /semantic_encoder\.onnx failed its integrity check: sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}/,
      ],
    },
    {
      name: 'missing-file',
      edit: (dir) => unlinkSync(join(dir, 'vq_decoder.onnx')),
      expect: [
        'vq_decoder.onnx is listed in manifest.json but is not in the folder “missing-file”',
        'File: vq_decoder.onnx',
      ],
    },
  ];

  for (const c of broken) {
    test(`refused, bundled model still usable: ${c.name}`, async ({ page, ep, consoleErrors }) => {
      const dir = copyModel(BUNDLED, c.name, c.edit);
      await openApp(page, ep);
      await expectStillUsable(page, 'before.png');
      await openFolder(page, dir);
      const err = page.getByTestId('model-load-error');
      await expect(err).toContainText(`The model “${c.name}” could not be loaded.`);
      for (const part of c.expect) await expect(err).toContainText(part);
      await expect(err).toContainText('Still using TokLIP');
      await expect(page.getByTestId('model-source')).not.toContainText('disk:');
      await expectStillUsable(page, 'after.png');
      await expect(card(page, 'before.png')).toHaveAttribute('data-status', 'done');
      expect(consoleErrors).toEqual([]);
    });
  }

  test('official layout from disk, token table read by rows (File.slice): matches onnxruntime-node', async ({
    page,
    ep,
    consoleErrors,
  }) => {
    const dir = copyModel(OFFICIAL, 'official-from-disk');
    const m = validateManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    expect(m.text.embedding_table, `${OFFICIAL} has a token table`).toBeTruthy();
    expect(
      m.files.some((f) => f.graph),
      `${OFFICIAL} has external-data shards`,
    ).toBe(true);
    await openApp(page, ep, '&table=range');
    await openFolder(page, dir);
    await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', 'official-from-disk');
    const facts = page.getByTestId('model-facts');
    await expect(facts).toHaveAttribute('data-table-mode', 'range');
    await expect(facts).toContainText('rows read from the file on disk');

    const prompts = ['a photo of a cat', 'numbers 12345 and 6789', 'café crème 😀 #1'];
    await page.getByTestId('prompts').fill(prompts.join('\n'));
    const S = m.image.size;
    const pic = squarePicture(S, 1);
    await addPicture(page, 'official.png', pic.png);
    await expect(card(page, 'official.png')).toHaveAttribute('data-prompts', JSON.stringify(prompts));
    const got = await readCard(page, 'official.png');

    const ref = new NodeReference('official-from-disk', { dir: join(dir, '..'), manifest: m });
    try {
      expect(got.ids).toEqual(Array.from(await ref.vqIds(pic.rgb)));
      const want = cosines(await ref.image(Int32Array.from(got.ids)), await ref.text(prompts), m.embed_dim);
      const maxDelta = Math.max(...got.cosines.map((c, i) => Math.abs(c - want[i]!)));
      console.log(`local folder ${OFFICIAL} (table by rows): max |Δcos| vs onnxruntime-node ${maxDelta}`);
      expect(maxDelta).toBeLessThanOrEqual(1e-3);
    } finally {
      await ref.release();
    }
    expect(consoleErrors).toEqual([]);
  });
});
