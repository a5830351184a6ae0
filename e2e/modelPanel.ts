/** Steps on the model panel shared by the specs that load model folders (site, URL, disk) and break them. */
import type { Page } from '@playwright/test';
import { DEFAULT_MODEL_ID } from '../src/config/models';
import { expect } from './fixtures';
import { testPicture } from './png';

/** Types a folder name or URL into the model field and loads it. */
export async function loadFolder(page: Page, idOrUrl: string): Promise<void> {
  await page.getByTestId('model-folder').fill(idOrUrl);
  await page.getByTestId('model-load').click();
}

/** Adds a generated test picture named `name` (pattern `seed`) and waits until its card is done. */
export async function processPicture(page: Page, name: string, seed = 2): Promise<void> {
  await page
    .getByTestId('file-input')
    .setInputFiles([{ name, mimeType: 'image/png', buffer: testPicture(96, 80, seed) }]);
  await expect(page.locator(`[data-testid="image-card"][data-name="${name}"]`)).toHaveAttribute(
    'data-status',
    'done',
  );
}

/** The bundled model is in use and processes an image named `name`. */
export async function expectStillUsable(page: Page, name: string): Promise<void> {
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready');
  await expect(page.getByTestId('model-ready')).toHaveAttribute('data-model-id', DEFAULT_MODEL_ID);
  await processPicture(page, name);
}

/**
 * Drops a folder on `target`. Playwright cannot put directory entries into a drop, so the DataTransfer carries
 * a real File and a stand-in `webkitGetAsEntry` hands out a directory `root` over `files` (relative path → URL
 * fetched in the page; sub-folders from the paths), whose readers answer `batch` entries per `readEntries`
 * call (Chromium answers at most 100): the app must keep reading until an empty batch. `extraDirs` are empty
 * sub-folders to add (e.g. `.git`).
 */
export async function dropFolder(
  page: Page,
  target: string,
  root: string,
  files: Record<string, string>,
  { batch = 3, extraDirs = [] as string[] } = {},
): Promise<void> {
  await page.evaluate(
    async ({ target, root, files, batch, extraDirs }) => {
      type Entry = { name: string; isFile: boolean; isDirectory: boolean } & Record<string, unknown>;
      type Dir = Entry & { children: Entry[] };
      const dir = (name: string): Dir => {
        const children: Entry[] = [];
        return {
          name,
          isFile: false,
          isDirectory: true,
          children,
          createReader: () => {
            let at = 0;
            return {
              readEntries: (ok: (b: Entry[]) => void) => {
                const out = children.slice(at, at + batch);
                at += out.length;
                setTimeout(() => ok(out), 0);
              },
            };
          },
        };
      };
      const top = dir(root);
      const dirs = new Map<string, Dir>([['', top]]);
      const dirOf = (path: string): Dir => {
        let d = dirs.get(path);
        if (!d) {
          const cut = path.lastIndexOf('/');
          d = dir(path.slice(cut + 1));
          dirOf(cut < 0 ? '' : path.slice(0, cut)).children.push(d);
          dirs.set(path, d);
        }
        return d;
      };
      let first: File | undefined;
      for (const [path, url] of Object.entries(files)) {
        const cut = path.lastIndexOf('/');
        const file = new File([await (await fetch(url)).blob()], path.slice(cut + 1));
        first ??= file;
        dirOf(cut < 0 ? '' : path.slice(0, cut)).children.push({
          name: file.name,
          isFile: true,
          isDirectory: false,
          file: (ok: (f: File) => void) => ok(file),
        });
      }
      for (const d of extraDirs) dirOf(d);
      const dt = new DataTransfer();
      dt.items.add(first!);
      DataTransferItem.prototype.webkitGetAsEntry = function () {
        return top as unknown as FileSystemEntry;
      };
      const el = document.querySelector(target)!;
      el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { target, root, files, batch, extraDirs },
  );
}
