/**
 * Zero-shot classification state and actions (issue 12, item 4): a label set (the model's concepts, the user's
 * list, or ImageNet-1k with CLIP templates), its class embeddings from the text tower, and a labelled folder
 * classified against its own sub-folder names.
 *
 * Label prompts go to the worker as ordinary `embedText` requests, a few classes per request, so image work
 * interleaves with a long label set, a progress bar can count them, and a newer label set simply stops sending
 * the older one's batches. Class embeddings (template-averaged, src/lib/zeroShot.ts) are cached in memory per
 * model (text encoder and tokenizer hashes) and label set.
 */
import { create } from 'zustand';
import { decodeImage } from '../image/decode';
import { fileByRole, type Manifest } from '../lib/manifest';
import {
  averageTemplates,
  expandPrompts,
  labelledPaths,
  parseLabels,
  parseLabelset,
  type Labelset,
} from '../lib/zeroShot';
import { client } from './actions';
import { useStore } from './store';
import { readAllEntries } from '../lib/dirEntries';

export type LabelSource = 'concepts' | 'user' | 'imagenet';

export interface ClassEmbeddings {
  /** cache key: model + labels + templates */
  key: string;
  labels: string[];
  templates: string[];
  /** [labels.length, dim], unit rows */
  embeddings: Float32Array;
  dim: number;
}

export interface LabelJob {
  /** what is being embedded, e.g. "ImageNet-1k × 7 templates" */
  what: string;
  done: number;
  total: number;
  /** text-encoder ms per prompt so far (shown as an estimate of what is left) */
  msPerPrompt?: number;
}

export interface FolderItem {
  path: string;
  label: string;
  /** index of `label` in the folder's labels */
  truth: number;
  status: 'queued' | 'working' | 'done' | 'error';
  ids?: Int32Array;
  embedding?: Float32Array;
  error?: string;
}

export interface FolderState {
  name: string;
  labels: string[];
  items: FolderItem[];
  /** the folder's labels embedded (each used verbatim as its prompt) */
  classes?: ClassEmbeddings;
}

export interface ZeroShotState {
  /** the panel is open: nothing is embedded before (the app's start stays as fast as without it) */
  open: boolean;
  source: LabelSource;
  userText: string;
  /** name of the ImageNet template set ("simple": 7, "openai": 80) */
  templateSet: string;
  labelset?: Labelset;
  labelsetError?: string;
  /** the selected label set, embedded for the model in use */
  active?: ClassEmbeddings;
  job?: LabelJob;
  error?: string;
  folder?: FolderState;
  folderJob?: { done: number; total: number };
  /** text-encoder ms per prompt measured by the last long label run on this device (cost estimates) */
  msPerPrompt?: number;
  /** for the panel's live region */
  message: string;
}

export const useZeroShot = create<ZeroShotState>()(() => ({
  open: false,
  source: 'concepts',
  userText: '',
  templateSet: 'simple',
  message: '',
}));

const get = useZeroShot.getState;
const set = useZeroShot.setState;

/** Prompts per embedText request: whole classes only, so each answer can be averaged at once. */
const PROMPTS_PER_REQUEST = 64;

const cache = new Map<string, ClassEmbeddings>();

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Identifies the text side of a model: a cached class embedding is only reused with the same graph and tokenizer. */
export function modelKey(m: Manifest): string {
  return `${m.id}:${fileByRole(m, 'text_encoder')?.sha256 ?? ''}:${fileByRole(m, 'tokenizer')?.sha256 ?? ''}`;
}

/** The model's own concepts: manifest.concepts when the exporter wrote them, else its default prompts. */
export function modelConcepts(m: Manifest): { labels: string[]; prompts: string[]; from: string } {
  const c = m.concepts;
  if (c?.length)
    return { labels: c.map((x) => x.name), prompts: c.map((x) => x.prompt), from: 'manifest.concepts' };
  return { labels: m.default_prompts, prompts: m.default_prompts, from: 'manifest.default_prompts' };
}

/**
 * Embeds labels × templates (class-major) in whole-class batches; null when `stale()` turned true on the way.
 * `prompts` (one per label) replaces the templates where labels are names and the prompts captions.
 */
async function embedClasses(
  labels: string[],
  templates: string[],
  what: string,
  stale: () => boolean,
  onProgress: (job: LabelJob) => void,
  prompts?: string[],
): Promise<ClassEmbeddings | null> {
  const m = useStore.getState().model.manifest;
  if (!m) throw new Error('no model is loaded');
  const key = `${modelKey(m)}|${JSON.stringify(templates)}|${JSON.stringify(prompts ?? labels)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const dim = m.embed_dim;
  const T = prompts ? 1 : templates.length;
  const all = prompts ?? expandPrompts(labels, templates);
  const perRequest = Math.max(1, Math.floor(PROMPTS_PER_REQUEST / T));
  const out = new Float32Array(labels.length * dim);
  const t0 = performance.now();
  onProgress({ what, done: 0, total: all.length });
  for (let c = 0; c < labels.length; c += perRequest) {
    if (stale()) return null;
    const n = Math.min(perRequest, labels.length - c);
    const r = await client.request<'embedText'>({
      kind: 'embedText',
      prompts: all.slice(c * T, (c + n) * T),
    });
    if (r.dim !== dim) throw new Error(`the text encoder returned width ${r.dim}, the manifest says ${dim}`);
    const rows = new Float32Array(r.embeddings);
    for (let k = 0; k < n; k++)
      out.set(averageTemplates(rows.subarray(k * T * dim, (k + 1) * T * dim), dim), (c + k) * dim);
    const done = (c + n) * T;
    onProgress({ what, done, total: all.length, msPerPrompt: (performance.now() - t0) / done });
  }
  const result: ClassEmbeddings = {
    key,
    labels,
    templates: prompts ? ['(caption per label)'] : templates,
    embeddings: out,
    dim,
  };
  cache.set(key, result);
  return result;
}

// ---- label set ------------------------------------------------------------------------------

let labelRun = 0;

export function setOpen(open: boolean): void {
  set({ open });
  if (open && get().source !== 'imagenet' && !get().active) void computeLabels();
  if (open && get().source === 'imagenet') void loadLabelset();
}

export function setSource(source: LabelSource): void {
  set({ source, error: undefined });
  // ImageNet costs thousands of text rows: it waits for an explicit "Embed"; the others are a few hundred at most.
  if (source === 'imagenet') {
    labelRun++;
    set({ active: undefined, job: undefined });
    void loadLabelset();
  } else void computeLabels();
}

let userTimer: ReturnType<typeof setTimeout> | undefined;
export function setUserText(text: string): void {
  set({ userText: text });
  clearTimeout(userTimer);
  userTimer = setTimeout(() => void computeLabels(), 400);
}

export function setTemplateSet(name: string): void {
  labelRun++;
  set({ templateSet: name, active: undefined, job: undefined });
}

export function cancelLabels(): void {
  labelRun++;
  set({ job: undefined, message: 'Label embedding cancelled.' });
}

export async function loadLabelset(): Promise<Labelset | undefined> {
  const have = get().labelset;
  if (have) return have;
  try {
    const res = await fetch(new URL('labelsets/imagenet-1k.json', document.baseURI));
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const ls = parseLabelset(await res.json());
    set({ labelset: ls, labelsetError: undefined });
    return ls;
  } catch (e) {
    set({ labelsetError: `the ImageNet-1k label set could not be loaded (${errorText(e)})` });
    return undefined;
  }
}

/** Embeds the selected label set for the model in use (from the cache when it was done before). */
export async function computeLabels(): Promise<void> {
  const run = ++labelRun;
  const stale = () => run !== labelRun;
  const m = useStore.getState().model.manifest;
  if (!m || useStore.getState().model.status !== 'ready') return;
  const { source, userText, templateSet } = get();
  let labels: string[];
  let templates = ['{}'];
  let prompts: string[] | undefined;
  let what: string;
  if (source === 'concepts') {
    const c = modelConcepts(m);
    labels = c.labels;
    prompts = c.prompts;
    what = `${labels.length} concepts of ${m.display_name}`;
  } else if (source === 'user') {
    labels = parseLabels(userText);
    what = `${labels.length} labels of yours`;
  } else {
    const ls = await loadLabelset();
    if (!ls || stale()) return;
    labels = ls.classes;
    templates = ls.templates[templateSet] ?? Object.values(ls.templates)[0]!;
    what = `${ls.name} × ${templates.length} templates`;
  }
  if (labels.length === 0) {
    set({ active: undefined, job: undefined });
    return;
  }
  set({ error: undefined });
  try {
    const r = await embedClasses(
      labels,
      templates,
      what,
      stale,
      (job) => {
        if (!stale()) set({ job });
      },
      prompts,
    );
    if (!r || stale()) return;
    const job = get().job;
    set({
      active: r,
      job: undefined,
      message: `${what}: embedded.`,
      // a run of a few requests says little about the per-prompt cost of a long one
      ...(job?.msPerPrompt && job.total >= 4 * PROMPTS_PER_REQUEST ? { msPerPrompt: job.msPerPrompt } : {}),
    });
  } catch (e) {
    if (!stale()) set({ job: undefined, error: errorText(e) });
  }
}

// ---- labelled folder ------------------------------------------------------------------------

let folderRun = 0;
const folderFiles = new Map<string, File>();

/** Files of a picked folder (`<input webkitdirectory>`): each carries its path in webkitRelativePath. */
export function addFolderFromInput(files: FileList | File[]): void {
  startFolder(Array.from(files).map((f) => ({ file: f, path: f.webkitRelativePath || f.name })));
}

const MAX_FOLDER_FILES = 2000;

/** A dropped folder (DataTransferItem.webkitGetAsEntry), walked with the paths it would have in the picker. */
export async function addFolderFromDrop(items: DataTransferItemList): Promise<void> {
  const entries = Array.from(items)
    .map((it) => (typeof it.webkitGetAsEntry === 'function' ? it.webkitGetAsEntry() : null))
    .filter((e): e is FileSystemEntry => e !== null);
  if (!entries.some((e) => e.isDirectory)) {
    set({ message: 'Drop a folder whose sub-folders are the labels (files alone carry no label).' });
    return;
  }
  const out: { file: File; path: string }[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string, depth: number): Promise<void> => {
    if (out.length >= MAX_FOLDER_FILES || entry.name.startsWith('.') || depth > 8) return;
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isFile) {
      out.push({
        file: await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej)),
        path,
      });
    } else if (entry.isDirectory) {
      const children = await readAllEntries(entry as FileSystemDirectoryEntry);
      children.sort((a, b) => a.name.localeCompare(b.name));
      for (const c of children) await walk(c, path, depth + 1);
    }
  };
  for (const e of entries) await walk(e, '', 0);
  startFolder(out);
}

function patchItem(run: number, path: string, patch: Partial<FolderItem>): void {
  if (run !== folderRun) return;
  set((s) =>
    s.folder
      ? {
          folder: {
            ...s.folder,
            items: s.folder.items.map((x) => (x.path === path ? { ...x, ...patch } : x)),
          },
        }
      : s,
  );
}

function startFolder(files: { file: File; path: string }[]): void {
  const run = ++folderRun;
  folderFiles.clear();
  const byPath = new Map(files.map((f) => [f.path, f.file]));
  const { items, labels } = labelledPaths(files.map((f) => f.path));
  if (items.length === 0 || labels.length < 2) {
    set({
      folder: undefined,
      message:
        items.length === 0
          ? 'No images in sub-folders: the sub-folder names are the labels.'
          : 'Only one sub-folder: at least two labels are needed to classify.',
    });
    return;
  }
  for (const it of items) folderFiles.set(it.path, byPath.get(it.path)!);
  const name = items[0]!.path.split('/')[0] ?? 'folder';
  set({
    folder: {
      name,
      labels,
      items: items.map((it) => ({ ...it, truth: labels.indexOf(it.label), status: 'queued' })),
    },
    folderJob: { done: 0, total: items.length },
    message: `${items.length} images in ${labels.length} labelled folders: classifying…`,
  });
  void runFolder(run);
}

async function runFolder(run: number): Promise<void> {
  const stale = () => run !== folderRun;
  const folder = get().folder;
  if (!folder || useStore.getState().model.status !== 'ready') return;
  try {
    const classes = await embedClasses(
      folder.labels,
      ['{}'],
      `${folder.labels.length} folder labels`,
      stale,
      () => {},
    );
    if (!classes || stale()) return;
    set((s) => (s.folder ? { folder: { ...s.folder, classes } } : s));
  } catch (e) {
    if (!stale()) set({ error: errorText(e) });
    return;
  }
  let done = 0;
  for (const it of folder.items) {
    if (stale()) return;
    const file = folderFiles.get(it.path);
    patchItem(run, it.path, { status: 'working', error: undefined });
    try {
      if (!file) throw new Error('the file is gone');
      const d = await decodeImage(file, it.path);
      const tok = await client.request<'tokenize'>(
        {
          kind: 'tokenize',
          rgba: d.rgba.buffer,
          width: d.width,
          height: d.height,
          ...(d.mode ? { mode: d.mode } : {}),
        },
        [d.rgba.buffer],
      );
      if (stale()) return;
      const ids = new Int32Array(tok.ids);
      const emb = await client.request<'embedImage'>({ kind: 'embedImage', ids: ids.slice().buffer }, []);
      patchItem(run, it.path, { status: 'done', ids, embedding: new Float32Array(emb.embeddings) });
    } catch (e) {
      patchItem(run, it.path, { status: 'error', error: errorText(e) });
    }
    done++;
    if (!stale()) set({ folderJob: { done, total: folder.items.length } });
  }
  if (!stale()) {
    const ok = get().folder?.items.filter((x) => x.status === 'done').length ?? 0;
    set({ folderJob: undefined, message: `Folder classified: ${ok} of ${folder.items.length} images.` });
  }
}

export function clearFolder(): void {
  folderRun++;
  folderFiles.clear();
  set({ folder: undefined, folderJob: undefined });
}

// Another model (or a reloaded one with other text weights): cached class embeddings of the old one do not apply,
// so the selected label set and the folder are computed again (from the cache when this model had them).
let lastModel = '';
useStore.subscribe((s) => {
  const m = s.model.manifest;
  if (s.model.status !== 'ready' || !m) return;
  const key = modelKey(m);
  if (key === lastModel) return;
  lastModel = key;
  const hadLabels = get().active !== undefined;
  labelRun++;
  set({ active: undefined, job: undefined });
  if (get().open && (get().source !== 'imagenet' || hadLabels)) void computeLabels();
  const folder = get().folder;
  if (folder) {
    const run = ++folderRun;
    set({
      folder: {
        ...folder,
        classes: undefined,
        items: folder.items.map((x) => ({ ...x, status: 'queued', ids: undefined, embedding: undefined })),
      },
      folderJob: { done: 0, total: folder.items.length },
    });
    void runFolder(run);
  }
});
