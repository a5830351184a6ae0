/**
 * Orchestration: model loading, the per-image pipeline (decode → tokenize → reconstruct → embed) and prompt
 * embedding. Images are processed one after another; the worker queues the graph runs themselves.
 */
import { resolveModel } from '../config/models';
import { decodeImage, ImageDecodeError } from '../image/decode';
import type { TableFetch } from '../lib/capacity';
import type { GraphRole, ManifestSample } from '../lib/manifest';
import { errorMap, psnr, ssim } from '../lib/metrics';
import { denormalise } from '../lib/preprocess';
import { chooseProvider, parseProvider, providerName, type Provider } from '../lib/provider';
import { probeWebGpu } from '../runtime/gpu';
import { folderPath } from '../lib/localFolder';
import { sha256Hex } from '../lib/sha256';
import { InferenceClient, InferenceError } from '../worker/client';
import type { DiskSourceSpec } from '../worker/protocol';
import { ACTIVE_STATUSES, newPromptId, useStore, type ImageItem, type ModelState } from './store';

export const client = new InferenceClient();

const get = useStore.getState;
const set = useStore.setState;

function announce(message: string): void {
  set({ announcement: message });
}

function errorText(e: unknown): string {
  if (e instanceof InferenceError)
    return e.file && !e.message.includes(e.file) ? `${e.message} (${e.file})` : e.message;
  return e instanceof Error ? e.message : String(e);
}

client.onProgress((p) => {
  set((s) => ({
    model: {
      ...s.model,
      files: {
        ...s.model.files,
        [p.file]: { file: p.file, role: p.role, loaded: p.loaded, total: p.total, status: p.status },
      },
    },
  }));
});

client.onNotice((n) => {
  set((s) => ({ provider: { ...s.provider, active: n.provider, notice: n.message } }));
  announce(n.message);
});

/**
 * ?debug=1 enables the worker's test hooks (crash, lose-device, stats) and window.__toklipDebug;
 * ?debug=providers reports where each session's nodes were placed (both: ?debug=1&debug=providers).
 */
const DEBUG_FLAGS = new URLSearchParams(location.search).getAll('debug');
const DEBUG = DEBUG_FLAGS.includes('1');
const REPORT_PLACEMENTS = DEBUG_FLAGS.includes('providers');

client.onPlacement((e) => {
  set((s) => ({
    provider: {
      ...s.provider,
      placements: { ...s.provider.placements, [e.role]: { provider: e.provider, placement: e.placement } },
    },
  }));
});
if (DEBUG) {
  (window as Window & { __toklipDebug?: unknown }).__toklipDebug = {
    crashWorker: () => client.debug('crash'),
    loseGpuDevice: () => client.debug('lose-device'),
    stats: () => client.debug('stats'),
    bench: (role: GraphRole, runs: number, warmup: number) => client.debug('bench', { role, runs, warmup }),
    /** the app's own decoder on a file, for comparing its pixels with Pillow's (e2e/jpeg-decode.spec.ts) */
    decode: (blob: Blob, name: string) => decodeImage(blob, name),
  };
}

const MAX_RESTARTS = 3;
let restarts = 0;
/** images that were in the worker when it died, with how often that happened to each */
const crashCounts = new Map<string, number>();

client.onCrashed((message) => {
  if (message === 'terminated') return;
  const canRestart = restarts < MAX_RESTARTS;
  const unfinished = get().images.filter((im) => ACTIVE_STATUSES.includes(im.status)).length;
  const text = canRestart
    ? `The inference worker stopped (${message}) and was restarted.` +
      (unfinished ? ` ${unfinished} unfinished image${unfinished > 1 ? 's were' : ' was'} queued again.` : '')
    : `The inference worker stopped (${message}) ${MAX_RESTARTS} times; reload the page to continue.`;
  set((s) => ({ workerNotice: text, model: { ...s.model, status: 'loading' } }));
  announce(text);
  if (!canRestart) {
    set((s) => ({ model: { ...s.model, status: 'error', error: { message: text } } }));
    return;
  }
  restarts++;
  const { provider } = get();
  setTimeout(() => void reloadInUse(provider.active ?? 'wasm', 'unfinished'), 100);
});

export function dismissWorkerNotice(): void {
  set({ workerNotice: undefined });
}

/** ?table=whole|range overrides how a token-embedding table is read (default: whole when small). */
function tableFetchParam(): TableFetch {
  const v = new URLSearchParams(location.search).get('table');
  return v === 'whole' || v === 'range' ? v : 'auto';
}

function modelBaseUrl(path: string): string {
  return new URL(path, document.baseURI).href;
}

/** The id `resolveModel` maps back to this folder URL: the folder's name for this site's folders, else the URL. */
function idForFolderUrl(url: string): string {
  const name = url.split('/').filter(Boolean).pop() ?? url;
  return modelBaseUrl(resolveModel(name).path) === url ? name : url;
}

/** The folder on this computer the model in use was read from (null: a folder of this site), for reloads. */
let diskInUse: DiskSourceSpec | null = null;

/** Loads the model in use again (new provider, restarted worker), from wherever it came from. */
function reloadInUse(provider: Provider, rerun: 'all' | 'unfinished'): Promise<void> {
  if (diskInUse) return loadModel(diskInUse.name, '', provider, rerun, diskInUse);
  const entry = resolveModel(get().model.id || null);
  return loadModel(entry.id, entry.path, provider, rerun);
}

/** blob: URLs for the sample pictures a disk folder's manifest lists (those not in the folder are left out). */
function diskSampleUrls(disk: DiskSourceSpec, samples: readonly ManifestSample[]): Record<string, string> {
  const byPath = new Map(disk.files.map((f) => [folderPath(f.path), f.file]));
  const out: Record<string, string> = {};
  for (const s of samples) {
    const file = byPath.get(folderPath(s.file));
    if (file) out[s.file] = URL.createObjectURL(file);
  }
  return out;
}

function revokeSampleUrls(urls: Record<string, string> | undefined): void {
  for (const url of Object.values(urls ?? {})) URL.revokeObjectURL(url);
}

/** Initial load: provider from the URL (?ep=) or auto, model from ?model=. */
export async function initialise(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const forced = parseProvider(params.get('ep'));
  const model = resolveModel(params.get('model'));
  const adapter = await probeWebGpu();
  const choice = chooseProvider(adapter, forced);
  set((s) => ({ provider: { ...s.provider, forced, adapter, active: null, reason: choice.reason } }));
  await loadModel(model.id, model.path, choice.provider);
}

/**
 * Loads a model folder. If another model is in use and this load fails, that model stays in use (the worker
 * only replaces it once everything was downloaded, verified and checked) and the error is shown beside it.
 * `rerun`: 'all' re-runs every image (new model or provider), 'unfinished' only those not done (worker restart).
 */
export async function loadModel(
  id: string,
  path: string,
  provider: Provider,
  rerun: 'all' | 'unfinished' = 'all',
  /** a folder on this computer instead of this site's `path` */
  disk?: DiskSourceSpec,
): Promise<void> {
  const previous = get().model;
  const hadModel = previous.status === 'ready' && previous.manifest !== undefined;
  set((s) => ({
    model: { ...s.model, status: 'loading', files: {}, error: undefined, loadError: undefined },
    provider: REPORT_PLACEMENTS ? { ...s.provider, placements: {} } : s.provider,
  }));
  announce(`Loading the model ${id}…`);
  try {
    const hw = navigator.hardwareConcurrency || 1;
    const threadsParam = Number(new URLSearchParams(location.search).get('threads'));
    const threads = Number.isInteger(threadsParam) && threadsParam > 0 ? Math.min(threadsParam, hw) : hw;
    const r = await client.load({
      source: disk ?? { kind: 'http', baseUrl: modelBaseUrl(path) },
      provider,
      numThreads: crossOriginIsolated ? threads : 1,
      ortBaseUrl: new URL('ort/', document.baseURI).href,
      useCache: true,
      debug: DEBUG,
      reportPlacements: REPORT_PLACEMENTS,
      tableFetch: tableFetchParam(),
    });
    // A sibling export opened instead of the folder asked for (manifest `variants`) is the model in use from now on.
    const loadedUrl = r.variant?.url ?? modelBaseUrl(path);
    const loadedId = r.variant ? idForFolderUrl(r.variant.url) : id;
    const sameModel = previous.id === loadedId && previous.manifest !== undefined;
    const sampleUrls = disk ? diskSampleUrls(disk, r.manifest.samples ?? []) : undefined;
    revokeSampleUrls(previous.sampleUrls);
    diskInUse = disk ?? null;
    set((s) => ({
      model: {
        ...s.model,
        id: loadedId,
        status: 'ready',
        manifest: r.manifest,
        baseUrl: disk ? undefined : loadedUrl,
        origin: disk ? { kind: 'disk', name: disk.name } : { kind: 'http', url: loadedUrl },
        variantNote: r.variant
          ? `${id} (${r.variant.from}) cannot run here: ${r.variant.why} Opened its ${r.variant.dtype} export instead.`
          : undefined,
        manifestSha256: r.manifestSha256,
        sampleUrls,
        codebook: new Float32Array(r.codebook),
        codeColours: new Uint8ClampedArray(r.codeColours),
        loadMs: r.downloadMs,
        numThreads: r.numThreads,
        crossOriginIsolated: r.crossOriginIsolated,
        textTable: r.textTable,
        limits: r.limits,
      },
      provider: {
        ...s.provider,
        active: r.provider,
        notice: r.fallbackReason
          ? `WebGPU could not be used: ${r.fallbackReason}. Using WASM.`
          : s.provider.notice,
      },
      text: { embeddings: {}, pending: false },
    }));
    if (get().prompts.length === 0 || !sameModel) {
      set({ prompts: r.manifest.default_prompts.map((text) => ({ id: newPromptId(), text })) });
    }
    announce(
      `${r.variant ? `The ${r.variant.dtype} export was opened instead. ` : ''}${r.manifest.display_name} is ready on ${providerName(r.provider)}.`,
    );
    void refreshTextEmbeddings();
    // (Re)process the images already present (e.g. after a provider switch or a worker restart).
    enqueueImages(
      get()
        .images.filter((im) => im.status !== 'cancelled' && !(im.status === 'error' && im.inputError)) // input problems stay
        .filter((im) => rerun === 'all' || im.status !== 'done')
        .map((im) => im.id),
    );
  } catch (e) {
    const file = e instanceof InferenceError ? e.file : undefined;
    const message = errorText(e);
    if (hadModel && !(e instanceof InferenceError && e.code === 'crashed')) {
      // The worker still holds the previous model: keep using it.
      set((s) => ({
        model: { ...previous, files: s.model.files, loadError: { id, message, file } },
      }));
      announce(
        `The model ${id} could not be loaded (${message}); still using ${previous.manifest!.display_name}.`,
      );
      enqueueImages(
        get()
          .images.filter((im) => im.status === 'queued')
          .map((im) => im.id),
      );
    } else {
      set((s) => ({ model: { ...s.model, id, status: 'error', error: { message, file } } }));
      announce(`The model could not be loaded: ${message}`);
    }
  }
}

/** Loads a model folder picked on this computer (src/store/localFolder.ts), keeping the current one if that fails. */
export async function loadDiskModel(disk: DiskSourceSpec): Promise<void> {
  await loadModel(disk.name, '', get().provider.active ?? 'wasm', 'all', disk);
}

/** Loads another model folder of this site (models/<id>/), keeping the current one if that fails. */
export async function switchModel(id: string): Promise<void> {
  const entry = resolveModel(id);
  const { provider } = get();
  await loadModel(entry.id, entry.path, provider.active ?? 'wasm');
}

/** Switch provider from the UI (null = automatic). Reloads sessions and re-runs the images. */
export async function switchProvider(forced: Provider | null): Promise<void> {
  const { provider } = get();
  const adapter = provider.adapter ?? (await probeWebGpu());
  const choice = chooseProvider(adapter, forced);
  set((s) => ({ provider: { ...s.provider, forced, reason: choice.reason, notice: undefined } }));
  const url = new URL(location.href);
  if (forced) url.searchParams.set('ep', forced);
  else url.searchParams.delete('ep');
  history.replaceState(null, '', url);
  await reloadInUse(choice.provider, 'all');
}

// ---- images --------------------------------------------------------------------------------

let imageSeq = 0;
const blobs = new Map<string, Blob>();
let chain: Promise<void> = Promise.resolve();

export function addFiles(files: Iterable<File>): void {
  const added: ImageItem[] = [];
  for (const f of files) {
    const id = `img${++imageSeq}`;
    blobs.set(id, f);
    const isImage = f.type.startsWith('image/') && f.type !== 'image/svg+xml';
    added.push({
      id,
      name: f.name || `pasted image ${imageSeq}`,
      bytes: f.size,
      url: isImage ? URL.createObjectURL(f) : null,
      status: 'queued',
      timings: {},
      queuedAt: performance.now(),
    });
  }
  if (!added.length) return;
  set((s) => ({ images: [...s.images, ...added] }));
  announce(`${added.length} image${added.length > 1 ? 's' : ''} added.`);
  enqueueImages(added.map((im) => im.id));
}

export function removeImage(id: string): void {
  const im = get().images.find((x) => x.id === id);
  if (im?.url) URL.revokeObjectURL(im.url);
  blobs.delete(id);
  crashCounts.delete(id);
  set((s) => ({ images: s.images.filter((x) => x.id !== id) }));
}

export function clearImages(): void {
  for (const im of get().images) if (im.url) URL.revokeObjectURL(im.url);
  blobs.clear();
  crashCounts.clear();
  set({ images: [], queueTotal: 0 });
}

/** Cancels every image still waiting in the queue (the one being processed finishes). */
export function cancelQueued(): void {
  const queued = get().images.filter((im) => im.status === 'queued');
  if (!queued.length) return;
  const ids = new Set(queued.map((im) => im.id));
  set((s) => ({
    images: s.images.map((im) => (ids.has(im.id) ? { ...im, status: 'cancelled' as const } : im)),
  }));
  announce(`${queued.length} queued image${queued.length > 1 ? 's' : ''} cancelled.`);
}

/** Queues a cancelled image again. */
export function retryImage(id: string): void {
  enqueueImages([id]);
}

/** Queues images (again); the progress bar's batch grows, or starts anew when nothing else is pending. */
function enqueueImages(ids: string[]): void {
  if (!ids.length) return;
  const wanted = new Set(ids);
  const active = get().images.filter((im) => !wanted.has(im.id) && ACTIVE_STATUSES.includes(im.status));
  set((s) => ({
    queueTotal: active.length ? s.queueTotal + ids.length : ids.length,
    images: s.images.map((im) =>
      wanted.has(im.id)
        ? {
            ...im,
            status: 'queued' as const,
            error: undefined,
            notes: undefined,
            queuedAt: performance.now(),
          }
        : im,
    ),
  }));
  for (const id of ids) chain = chain.then(() => processImage(id)).catch(() => undefined);
}

const exists = (id: string) => get().images.some((x) => x.id === id);

async function processImage(id: string): Promise<void> {
  const blob = blobs.get(id);
  if (!blob || !exists(id)) return;
  if (get().images.find((x) => x.id === id)?.status !== 'queued') return; // cancelled, or queued twice
  if (get().model.status !== 'ready') {
    if (get().model.status === 'error')
      get().updateImage(id, { status: 'error', error: 'no model is loaded' });
    return; // re-queued when the model becomes ready
  }
  const { updateImage, setTiming } = get();
  const manifest = get().model.manifest!;
  const tStart = performance.now();
  try {
    updateImage(id, { status: 'decoding' });
    let t = performance.now();
    const decoded = await decodeImage(blob, get().images.find((x) => x.id === id)?.name ?? '');
    setTiming(id, 'decode image', performance.now() - t);
    updateImage(id, {
      status: 'tokenizing',
      width: decoded.width,
      height: decoded.height,
      notes: decoded.notes.length ? decoded.notes : undefined,
    });

    const tok = await client.request<'tokenize'>(
      {
        kind: 'tokenize',
        rgba: decoded.rgba.buffer,
        width: decoded.width,
        height: decoded.height,
        ...(decoded.mode ? { mode: decoded.mode } : {}),
      },
      [decoded.rgba.buffer],
    );
    if (!exists(id)) return;
    const ids = new Int32Array(tok.ids);
    const pixels = new Float32Array(tok.pixels);
    const modelRgb = denormalise(pixels, manifest.image.mean, manifest.image.std);
    setTiming(id, 'preprocess', tok.preprocessMs);
    setTiming(id, 'VQ encode', tok.timing.runMs);
    updateImage(id, {
      status: 'reconstructing',
      ids,
      grid: { h: tok.h, w: tok.w },
      size: tok.size,
      modelRgb,
    });

    const dec = await client.request<'decode'>({ kind: 'decode', ids: ids.slice().buffer }, []);
    if (!exists(id)) return;
    const recon = new Float32Array(dec.image);
    setTiming(id, 'VQ decode', dec.timing.runMs);
    t = performance.now();
    const S = tok.size;
    const metrics = {
      psnr: psnr(modelRgb, recon),
      ssim: ssim(modelRgb, recon, S, S),
      errorMap: errorMap(modelRgb, recon, S, S),
    };
    setTiming(id, 'metrics', performance.now() - t);
    updateImage(id, { status: 'embedding', recon, ...metrics });

    const emb = await client.request<'embedImage'>({ kind: 'embedImage', ids: ids.slice().buffer }, []);
    if (!exists(id)) return;
    setTiming(id, 'semantic encode', emb.timing.runMs);
    updateImage(id, { embedding: new Float32Array(emb.embeddings) });

    if (manifest.teacher) {
      const te = await client.request<'embedTeacher'>({ kind: 'embedTeacher', pixels: tok.pixels }, [
        tok.pixels,
      ]);
      if (!exists(id)) return;
      setTiming(id, 'teacher encode', te.timing.runMs);
      updateImage(id, { teacherEmbedding: new Float32Array(te.embeddings) });
    }
    const tDone = performance.now();
    setTiming(id, 'total', tDone - tStart);
    // What the user waits for: from the file arriving (or being queued again) to every panel filled.
    const queuedAt = get().images.find((x) => x.id === id)?.queuedAt;
    if (queuedAt !== undefined) setTiming(id, 'drop to panels', tDone - queuedAt);
    updateImage(id, { status: 'done' });
    const name = get().images.find((x) => x.id === id)?.name ?? 'image';
    announce(`${name}: tokens, reconstruction and similarity ready.`);
  } catch (e) {
    if (!exists(id)) return;
    if (e instanceof InferenceError && e.code === 'crashed') {
      // The worker died with this image in it: it is queued again once the worker is back (twice at most).
      const n = (crashCounts.get(id) ?? 0) + 1;
      crashCounts.set(id, n);
      if (n < 2) {
        updateImage(id, { status: 'queued' });
        return;
      }
      updateImage(id, {
        status: 'error',
        error: `the inference worker stopped twice while processing this image (${e.message})`,
      });
      return;
    }
    updateImage(id, { status: 'error', error: errorText(e), inputError: e instanceof ImageDecodeError });
    const name = get().images.find((x) => x.id === id)?.name ?? 'image';
    announce(`${name} could not be processed: ${errorText(e)}`);
  }
}

// ---- samples -------------------------------------------------------------------------------

export interface Sample extends ManifestSample {
  /** absolute URL of the picture */
  url: string;
}

/**
 * The current model's held-out samples (manifest.samples), resolved against its folder; for a folder on this
 * computer, those it holds, as blob: URLs.
 */
export function modelSamples(model: Pick<ModelState, 'manifest' | 'baseUrl' | 'sampleUrls'>): Sample[] {
  const list = model.manifest?.samples ?? [];
  const urls = model.sampleUrls;
  if (urls) return list.filter((s) => urls[s.file]).map((s) => ({ ...s, url: urls[s.file]! }));
  if (!model.baseUrl) return [];
  return list.map((s) => ({ ...s, url: new URL(s.file, model.baseUrl).href }));
}

export async function addSample(s: Sample): Promise<void> {
  try {
    // A disk model's sample is its File (the CSP's connect-src does not allow fetching blob: URLs).
    const own = diskInUse?.files.find((f) => folderPath(f.path) === folderPath(s.file))?.file;
    let buf: ArrayBuffer;
    let type: string;
    if (own) {
      buf = await own.arrayBuffer();
      type = own.type;
    } else {
      const res = await fetch(s.url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      buf = await res.arrayBuffer();
      type = res.headers.get('content-type') ?? '';
    }
    const got = await sha256Hex(buf);
    if (got !== s.sha256) throw new Error(`sha256 ${got.slice(0, 12)}… differs from the manifest's`);
    const name = s.file.split('/').pop() ?? s.file;
    addFiles([new File([buf], name, { type })]);
  } catch (e) {
    announce(`The sample ${s.title} could not be loaded (${e instanceof Error ? e.message : String(e)}).`);
  }
}

// ---- prompts -------------------------------------------------------------------------------

export function setPromptsFromText(text: string): void {
  const lines = text.split('\n');
  const old = get().prompts;
  set({ prompts: lines.map((t, i) => ({ id: old[i]?.id ?? newPromptId(), text: t })) });
  scheduleTextRefresh();
}

export function resetPrompts(): void {
  const m = get().model.manifest;
  if (!m) return;
  set({ prompts: m.default_prompts.map((text) => ({ id: newPromptId(), text })) });
  scheduleTextRefresh();
}

/** The prompts that count: non-blank lines, trimmed, in order. */
export function activePrompts(prompts = get().prompts): string[] {
  return prompts.map((p) => p.text.trim()).filter((t) => t.length > 0);
}

let textTimer: ReturnType<typeof setTimeout> | undefined;
export function scheduleTextRefresh(): void {
  clearTimeout(textTimer);
  textTimer = setTimeout(() => void refreshTextEmbeddings(), 250);
}

let textRun = 0;
/** Embeds only the prompts that have no embedding yet. Image encoders are not re-run. */
export async function refreshTextEmbeddings(): Promise<void> {
  if (get().model.status !== 'ready') return;
  const wanted = activePrompts();
  const have = get().text.embeddings;
  const missing = [...new Set(wanted.filter((t) => !have[t]))];
  if (!missing.length) return;
  const run = ++textRun;
  set((s) => ({ text: { ...s.text, pending: true, error: undefined } }));
  try {
    const r = await client.request<'embedText'>({ kind: 'embedText', prompts: missing });
    const all = new Float32Array(r.embeddings);
    set((s) => {
      const embeddings = { ...s.text.embeddings };
      missing.forEach((t, i) => (embeddings[t] = all.slice(i * r.dim, (i + 1) * r.dim)));
      return { text: { ...s.text, embeddings, pending: run !== textRun, lastMs: r.timing.runMs } };
    });
  } catch (e) {
    set((s) => ({ text: { ...s.text, pending: false, error: errorText(e) } }));
  }
  // prompts may have changed while we were embedding
  if (activePrompts().some((t) => !get().text.embeddings[t])) scheduleTextRefresh();
}
