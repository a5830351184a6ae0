/**
 * Opening a model folder from this computer: the directory picker where the browser has one, a folder input
 * (`<input webkitdirectory>`) otherwise, or a folder dropped on the model panel. Each way ends in the same list
 * of Files with their paths inside the folder, which the worker reads (src/worker/sources/disk.ts).
 */
import { readAllEntries } from '../lib/dirEntries';
import { splitRelativePaths } from '../lib/localFolder';
import type { DiskFile } from '../worker/protocol';
import { loadDiskModel } from './actions';
import { useStore } from './store';

const set = useStore.setState;

/** A model folder holds tens of files; this bounds what a wrongly picked folder (a home folder) costs to list. */
const MAX_FILES = 5000;
const MAX_DEPTH = 8;

/** A folder that cannot be opened: said beside the model in use (which stays), or as the load error. */
function refuse(name: string, message: string): void {
  set((s) =>
    s.model.status === 'ready'
      ? { model: { ...s.model, loadError: { id: name, message } } }
      : { model: { ...s.model, error: { message } } },
  );
  set({ announcement: `The folder ${name} could not be opened: ${message}` });
}

async function open(name: string, files: DiskFile[]): Promise<void> {
  if (files.length >= MAX_FILES) {
    refuse(
      name,
      `it holds more than ${MAX_FILES} files; pick the model folder itself, the one that holds manifest.json`,
    );
    return;
  }
  await loadDiskModel({ kind: 'disk', name, files });
}

export function hasDirectoryPicker(): boolean {
  return typeof (window as { showDirectoryPicker?: unknown }).showDirectoryPicker === 'function';
}

interface DirHandle {
  kind: 'directory';
  name: string;
  values(): AsyncIterable<DirHandle | FileHandle>;
}
interface FileHandle {
  kind: 'file';
  name: string;
  getFile(): Promise<File>;
}

/** The directory picker (Chromium); false when the person cancelled it. */
export async function openFolderWithPicker(): Promise<boolean> {
  let dir: DirHandle;
  try {
    dir = await (
      window as unknown as { showDirectoryPicker(o: object): Promise<DirHandle> }
    ).showDirectoryPicker({ id: 'toklip-model-folder', mode: 'read' });
  } catch (e) {
    if ((e as Error).name === 'AbortError') return false;
    refuse('(folder)', (e as Error).message);
    return false;
  }
  const files: DiskFile[] = [];
  const walk = async (d: DirHandle, prefix: string, depth: number): Promise<void> => {
    for await (const h of d.values()) {
      if (files.length >= MAX_FILES || h.name.startsWith('.')) continue;
      if (h.kind === 'file') files.push({ path: prefix + h.name, file: await h.getFile() });
      else if (depth < MAX_DEPTH) await walk(h, `${prefix}${h.name}/`, depth + 1);
    }
  };
  try {
    await walk(dir, '', 0);
  } catch (e) {
    refuse(dir.name, `could not list its files: ${(e as Error).message}`);
    return true;
  }
  await open(dir.name, files);
  return true;
}

/** Files of a folder input: each names its path, the folder's name first, in webkitRelativePath. */
export async function openFolderFromInput(list: FileList | File[]): Promise<void> {
  const files = Array.from(list);
  if (!files.length) return;
  const split = splitRelativePaths(files.map((f) => f.webkitRelativePath || f.name));
  if (!split) {
    refuse(files[0]!.name, 'pick one model folder (the one that holds manifest.json), not single files');
    return;
  }
  await open(
    split.name,
    files.map((file, i) => ({ path: split.paths[i]!, file })),
  );
}

/**
 * A folder dropped on the model panel. The entries are taken before the first await: a DataTransfer's items
 * are only readable during the drop event.
 */
export async function openDroppedFolder(items: DataTransferItemList): Promise<void> {
  const entries = Array.from(items)
    .map((it) => (typeof it.webkitGetAsEntry === 'function' ? it.webkitGetAsEntry() : null))
    .filter((e): e is FileSystemEntry => e !== null);
  const dirs = entries.filter((e) => e.isDirectory) as FileSystemDirectoryEntry[];
  if (dirs.length !== 1) {
    refuse(
      entries[0]?.name ?? '(drop)',
      'drop one model folder (the one that holds manifest.json) on the model panel',
    );
    return;
  }
  const top = dirs[0]!;
  const files: DiskFile[] = [];
  const walk = async (dir: FileSystemDirectoryEntry, prefix: string, depth: number): Promise<void> => {
    for (const e of await readAllEntries(dir)) {
      if (files.length >= MAX_FILES || e.name.startsWith('.')) continue;
      if (e.isFile) {
        const file = await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej));
        files.push({ path: prefix + e.name, file });
      } else if (e.isDirectory && depth < MAX_DEPTH) {
        await walk(e as FileSystemDirectoryEntry, `${prefix}${e.name}/`, depth + 1);
      }
    }
  };
  try {
    await walk(top, '', 0);
  } catch (e) {
    refuse(top.name, `could not list its files: ${(e as Error).message}`);
    return;
  }
  await open(top.name, files);
}
