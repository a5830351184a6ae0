/// <reference lib="webworker" />
/**
 * The inference worker: owns onnxruntime-web and every InferenceSession. Requests are handled one at a time
 * (a FIFO promise chain), so no session ever runs concurrently. Sessions are created lazily per graph.
 * Every tensor created here — inputs and outputs — is disposed after use.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { refusal, tableMode, WASM_HEAP_LIMIT_BYTES, type GpuFacts } from '../lib/capacity';
import { gatherFromTable, type TableSpec } from '../lib/embeddingTable';
import {
  embeddingTable,
  externalDataFiles,
  fileByRole,
  validateManifest,
  type GraphRole,
  type Manifest,
} from '../lib/manifest';
import { checkGraphAgainstManifest, readGraphShapes } from '../lib/onnxShapes';
import { pcaColours } from '../lib/pca';
import { parsePlacement } from '../lib/placements';
import type { PilMode } from '../lib/pngPixels';
import { cellBox, cropRgba, patchRuns } from '../lib/codePatches';
import { chwToRgba, preprocess } from '../lib/preprocess';
import { describeAdapter, type Provider } from '../lib/provider';
import { LatestBySlot } from '../lib/supersede';
import { TextTokenizer } from '../lib/text';
import type {
  DebugRequest,
  DebugResult,
  EmbedResult,
  LabRunRequest,
  LoadRequest,
  LoadResult,
  RequestKind,
  ResultByKind,
  Timing,
  WorkerRequest,
  WorkerResponse,
} from './protocol';

import { WorkerError } from './errors';
import { readVerified, type ReportProgress } from './modelFiles';
import { deleteCachedModel, listCachedModels, ModelCache } from './modelCache';
import { openSource, type ModelSource } from './sources';
import { candidateVariants } from '../lib/variants';

declare const self: DedicatedWorkerGlobalScope;

/** Rows of the token-embedding table (text.input "embeddings") for a batch of ids. */
interface TableRows {
  mode: 'whole' | 'range';
  spec: TableSpec;
  gather(ids: Int32Array): Promise<Float32Array>;
}

interface Loaded {
  manifest: Manifest;
  /** the folder's URL (or made-up URL for sources without one) */
  sourceKey: string;
  /** graph bytes kept until the lazy session is created */
  graphs: Map<GraphRole, Uint8Array>;
  /** external-data shards per graph, kept as long as the graph bytes */
  shards: Map<GraphRole, { path: string; data: Uint8Array | Blob }[]>;
  sessions: Partial<Record<GraphRole, Promise<ort.InferenceSession>>>;
  tokenizer: TextTokenizer;
  table: TableRows | null;
  provider: Provider;
  /** why this model cannot fall back to WASM (null: it can) */
  noWasm: string | null;
}

let state: Loaded | null = null;
let ortConfigured = false;
let debugEnabled = false;
/** set when the WebGPU device was lost; the next run switches to WASM */
let deviceLost: string | undefined;
let watchingDevice = false;
/** why the worker last switched from WebGPU to WASM */
let lastFallback: string | undefined;
/** ORT tensors created here and not yet disposed (checked by the memory test through `debug: stats`) */
let liveTensors = 0;
let tensorsCreated = 0;

function track<T extends ort.Tensor>(t: T): T {
  liveTensors++;
  tensorsCreated++;
  return t;
}

function dispose(t: ort.Tensor): void {
  t.dispose();
  liveTensors--;
}

function post(msg: WorkerResponse, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

function configureOrt(req: LoadRequest): number {
  if (!ortConfigured) {
    // Runtime files come from our own origin; numThreads must be set before the first session.
    ort.env.wasm.wasmPaths = {
      mjs: new URL('ort-wasm-simd-threaded.asyncify.mjs', req.ortBaseUrl).href,
      wasm: new URL('ort-wasm-simd-threaded.asyncify.wasm', req.ortBaseUrl).href,
    };
    ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, req.numThreads) : 1;
    ort.env.wasm.proxy = false; // we already are a worker
    ort.env.logLevel = 'error';
    ortConfigured = true;
  }
  return ort.env.wasm.numThreads ?? 1;
}

// ---- model files ------------------------------------------------------------------------------

async function tableRows(
  source: ModelSource,
  manifest: Manifest,
  mode: 'whole' | 'range',
  cache: ModelCache | null,
  progress: ReportProgress,
): Promise<{ rows: TableRows; fromCache: boolean }> {
  const t = manifest.text.embedding_table!;
  const f = fileByRole(manifest, 'text_embedding')!;
  if (mode === 'whole') {
    const { bytes, fromCache } = await readVerified(source, f, cache, progress);
    return {
      rows: { mode, spec: t, gather: (ids) => Promise.resolve(gatherFromTable(bytes, ids, t)) },
      fromCache,
    };
  }
  const reader = source.rows(f, t);
  // Read the rows every prompt needs now: a source that cannot serve rows is refused before the model is replaced.
  const special = [manifest.text.pad_id, manifest.text.bos_id, manifest.text.eos_id].filter(
    (x): x is number => typeof x === 'number',
  );
  await reader.gather(Int32Array.from(special));
  return { rows: { mode, spec: t, gather: (ids) => reader.gather(ids) }, fromCache: false };
}

/** What the WebGPU device offers: ORT's device once it exists, else the adapter it will request (same options). */
async function gpuFacts(): Promise<GpuFacts | null> {
  const facts = (
    info: GPUAdapterInfo | undefined,
    features: GPUSupportedFeatures,
    limits: GPUSupportedLimits,
  ): GpuFacts => ({
    adapter: describeAdapter(info ?? {}),
    features: [...features],
    maxBufferSize: limits.maxBufferSize,
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
  });
  let existing: GPUDevice | undefined;
  try {
    // ORT's typings say Promise<GPUDevice>; 1.30 hands out the device itself (undefined before the first session).
    existing = await Promise.resolve(ort.env.webgpu.device as GPUDevice | Promise<GPUDevice> | undefined);
  } catch {
    existing = undefined;
  }
  try {
    if (existing && deviceLost === undefined) {
      const info = (existing as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
      return facts(info, existing.features, existing.limits);
    }
    const adapter = await navigator.gpu?.requestAdapter({
      powerPreference: ort.env.webgpu.powerPreference,
    });
    return adapter ? facts(adapter.info, adapter.features, adapter.limits) : null;
  } catch {
    return null;
  }
}

async function releaseAll(s: Loaded | null): Promise<void> {
  if (!s) return;
  const pending = Object.values(s.sessions);
  s.sessions = {};
  await Promise.all(pending.map((p) => p.then((sess) => sess.release()).catch(() => undefined)));
}

async function readManifest(source: ModelSource): Promise<Manifest> {
  const json = await source.readManifest();
  try {
    return validateManifest(json);
  } catch (e) {
    throw new WorkerError('manifest', (e as Error).message, 'manifest.json');
  }
}

async function load(req: LoadRequest): Promise<LoadResult> {
  const t0 = performance.now();
  const numThreads = configureOrt(req);
  let source = openSource(req.source);
  let manifest = await readManifest(source);

  // Before any download: can this browser run this variant at all? If not, the best sibling export that can
  // (manifest `variants`) is opened instead; if none can, the model in use stays.
  const gpu = req.provider === 'webgpu' ? await gpuFacts() : null;
  let mode = tableMode(manifest, req.tableFetch);
  let variant: LoadResult['variant'];
  const refused = refusal(manifest, { provider: req.provider, gpu, table: mode });
  if (refused) {
    const tried: string[] = [];
    for (const v of candidateVariants(manifest, req.provider, gpu)) {
      const other = source.sibling?.(v.path);
      if (!other) break;
      let m: Manifest;
      try {
        m = await readManifest(other);
      } catch (e) {
        tried.push(`${v.dtype} (${v.path}): ${(e as Error).message}`);
        continue;
      }
      const otherMode = tableMode(m, req.tableFetch);
      const why = refusal(m, { provider: req.provider, gpu, table: otherMode });
      if (why) {
        tried.push(`${v.dtype} (${v.path}): ${why}`);
        continue;
      }
      variant = {
        from: manifest.variant?.dtype ?? 'this export',
        dtype: v.dtype,
        why: refused,
        url: other.key,
      };
      [source, manifest, mode] = [other, m, otherMode];
      break;
    }
    if (!variant) {
      const others = tried.length
        ? ` The other exports listed in its manifest cannot run here either: ${tried.join('; ')}.`
        : manifest.variants?.length
          ? ''
          : ' Export a variant that can (toklip-export --dtype int8 or q4) and open that folder.';
      throw new WorkerError('unsupported', `${refused}${others}`, 'manifest.json');
    }
  }
  const wasmRefused =
    req.provider === 'webgpu' ? refusal(manifest, { provider: 'wasm', gpu: null, table: mode }) : null;

  const cache = await ModelCache.open(req.useCache, (f) => post({ kind: 'cacheNotice', ...f }));
  const progress: ReportProgress = (f, loaded, status) =>
    post({
      kind: 'progress',
      requestId: req.requestId,
      file: f.path,
      role: f.role,
      loaded,
      total: f.bytes,
      status,
    });
  const needed = manifest.files.filter(
    (f) => f.role !== 'model_card' && f.role !== 'metrics' && f.role !== 'text_embedding',
  );
  const [results, table] = await Promise.all([
    Promise.all(needed.map((f) => readVerified(source, f, cache, progress))),
    mode ? tableRows(source, manifest, mode, cache, progress) : Promise.resolve(null),
  ]);
  const byRole = new Map<string, Uint8Array>(needed.map((f, i) => [f.role, results[i]!.bytes]));

  const cbFile = fileByRole(manifest, 'codebook')!;
  const cbBytes = byRole.get('codebook')!;
  const { size, dim } = manifest.codebook;
  if (cbBytes.byteLength !== size * dim * 4) {
    throw new WorkerError(
      'integrity',
      `${cbFile.path} has ${cbBytes.byteLength} bytes, expected ${size}×${dim} float32 = ${size * dim * 4}`,
      cbFile.path,
    );
  }
  const codebook = new Float32Array(size * dim);
  const dv = new DataView(cbBytes.buffer, cbBytes.byteOffset, cbBytes.byteLength);
  for (let i = 0; i < codebook.length; i++) codebook[i] = dv.getFloat32(i * 4, true);
  const colours = pcaColours(codebook, size, dim);

  const tokFile = fileByRole(manifest, 'tokenizer')!;
  let tokenizer: TextTokenizer;
  try {
    tokenizer = new TextTokenizer(
      JSON.parse(new TextDecoder().decode(byRole.get('tokenizer'))),
      manifest.text,
    );
  } catch (e) {
    throw new WorkerError('text', `could not read ${tokFile.path}: ${(e as Error).message}`, tokFile.path);
  }

  const graphs = new Map<GraphRole, Uint8Array>();
  const shards = new Map<GraphRole, { path: string; data: Uint8Array | Blob }[]>();
  for (const role of [
    'vq_encoder',
    'vq_decoder',
    'semantic_encoder',
    'text_encoder',
    'teacher_image_encoder',
  ] as const) {
    const b = byRole.get(role);
    if (b) graphs.set(role, b);
    // A source that can hand onnxruntime the file itself (disk) spares keeping the verified bytes until then.
    const data = externalDataFiles(manifest, role).map((f) => ({
      path: f.path,
      data: source.blob?.(f) ?? byRole.get(f.role)!,
    }));
    if (data.length) shards.set(role, data);
  }

  // The manifest must agree with the graphs it ships (grid, size, embedding width, context length): checked from
  // the graphs' declared shapes before the new model replaces the one in use.
  const problems: string[] = [];
  for (const [role, bytes] of graphs) {
    const f = fileByRole(manifest, role)!;
    try {
      problems.push(...checkGraphAgainstManifest(role, f.path, readGraphShapes(bytes), manifest));
    } catch (e) {
      throw new WorkerError(
        'graph',
        `${f.path} is not a readable ONNX model: ${(e as Error).message}`,
        f.path,
      );
    }
  }
  if (problems.length) {
    const file = problems[0]!.split(' ')[0];
    throw new WorkerError('graph', `the manifest disagrees with its graphs: ${problems.join('; ')}`, file);
  }

  await cache?.recordUse(source, manifest);
  await releaseAll(state);
  deviceLost = undefined;
  state = {
    manifest,
    sourceKey: source.key,
    graphs,
    shards,
    sessions: {},
    tokenizer,
    table: table?.rows ?? null,
    provider: req.provider,
    noWasm: wasmRefused,
  };

  let fallbackReason: string | undefined;
  if (req.provider === 'webgpu') {
    // Create one session now so that a WebGPU failure is known (and reported) before any image is dropped.
    try {
      await session('vq_encoder');
    } catch (e) {
      if (state.provider === 'wasm') fallbackReason = (e as Error).message;
      else throw e;
    }
    if (state.provider !== 'webgpu') fallbackReason ??= lastFallback ?? 'WebGPU session creation failed';
  }
  return {
    manifest,
    provider: state.provider,
    fallbackReason,
    numThreads,
    crossOriginIsolated: self.crossOriginIsolated,
    codebook: codebook.buffer,
    codeColours: colours.buffer as ArrayBuffer,
    downloadMs: performance.now() - t0,
    fromCache: results.every((r) => r.fromCache) && (table?.fromCache ?? true),
    manifestSha256: source.manifestSha256,
    variant,
    textTable: table ? { mode: table.rows.mode, bytes: manifest.text.embedding_table!.bytes } : undefined,
    limits:
      state.provider === 'webgpu' && gpu
        ? { gpu: (await gpuFacts()) ?? gpu }
        : { wasmHeapBytes: WASM_HEAP_LIMIT_BYTES },
  };
}

// ---- sessions ---------------------------------------------------------------------------------

function loaded(): Loaded {
  if (!state) throw new WorkerError('not-loaded', 'no model is loaded yet');
  return state;
}

/** Graph and shard bytes are only worth keeping while a WASM session may still have to be made from them. */
function forgetGraph(s: Loaded, role: GraphRole): void {
  s.graphs.delete(role);
  s.shards.delete(role);
}

async function createSession(s: Loaded, role: GraphRole): Promise<ort.InferenceSession> {
  const bytes = s.graphs.get(role);
  const file = fileByRole(s.manifest, role);
  if (!bytes || !file) throw new WorkerError('session', `the model has no ${role} graph`);
  const externalData = s.shards.get(role);
  const options = (ep: Provider): ort.InferenceSession.SessionOptions => ({
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3, // errors only: ORT's EP-assignment warnings are expected and not actionable here
    ...placementLogOptions(role),
    // Idle ORT threads must not spin: on a 2-core machine spinning starves the page's own main thread.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    ...(externalData ? { externalData } : {}),
  });
  if (s.provider === 'webgpu' && deviceLost === undefined) {
    try {
      const sess = await ort.InferenceSession.create(bytes, options('webgpu'));
      reportPlacement(role, 'webgpu');
      watchDevice();
      if (s.noWasm) forgetGraph(s, role);
      return sess;
    } catch (e) {
      // WebGPU unusable: switch the whole worker to WASM and say so.
      await switchToWasm(s, `WebGPU session for ${file.path} failed (${(e as Error).message})`, role);
    }
  } else if (s.provider === 'webgpu') {
    await switchToWasm(s, `the WebGPU device was lost (${deviceLost})`, role);
  }
  try {
    const sess = await ort.InferenceSession.create(bytes, options('wasm'));
    reportPlacement(role, 'wasm');
    // On WASM nothing can ask for this graph again until the next load: free its bytes.
    if (s.provider === 'wasm') forgetGraph(s, role);
    return sess;
  } catch (e) {
    throw new WorkerError(
      'session',
      `could not create a session for ${file.path}: ${(e as Error).message}`,
      file.path,
    );
  }
}

// ---- debug: where the nodes ran ---------------------------------------------------------------------

/** ORT log lines captured since the last session was created (only with `reportPlacements`). */
let placementLog: string[] | null = null;

/**
 * Routes onnxruntime's log through the worker, before its wasm module exists: the module binds console.log
 * and console.error when it is instantiated (at the first session), so replacing them later would miss it.
 * Lines of ORT's own format are kept for `reportPlacement`; of them only errors are printed, as without the flag
 * (sessions log errors only; verbose logging is hundreds of lines per session). Anything else goes to the
 * console as before.
 */
function capturePlacementLog(): void {
  if (placementLog) return;
  placementLog = [];
  const log = placementLog;
  for (const level of ['log', 'info', 'warn', 'error'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      const text = args.map(String).join(' ');
      if (/\[[VIWEF]:onnxruntime:/.test(text)) {
        log.push(...text.split('\n'));
        // errors still reach the console (and the tests' console-error checks)
        if (!/\[[EF]:onnxruntime:/.test(text)) return;
      }
      original(...args);
    };
  }
}

/** Verbose session log, tagged with the graph's role, while placements are being reported. */
function placementLogOptions(role: GraphRole): ort.InferenceSession.SessionOptions {
  if (!placementLog) return {};
  placementLog.length = 0; // called as the session is created: what was logged before belongs to no one
  return { logSeverityLevel: 0, logVerbosityLevel: 0, logId: role };
}

/** Posts where the session of `role` just created put its nodes, and forgets the log read so far. */
function reportPlacement(role: GraphRole, provider: Provider): void {
  if (!placementLog) return;
  const placement = parsePlacement(placementLog, role);
  placementLog.length = 0;
  post({ kind: 'placement', role, provider, placement });
}

/** Watches ORT's WebGPU device once: a lost device makes the next run switch to WASM. */
function watchDevice(): void {
  if (watchingDevice) return;
  watchingDevice = true;
  // ORT's typings say Promise<GPUDevice>; 1.30 at run time hands out the device itself. Accept both.
  let device: Promise<GPUDevice>;
  try {
    device = Promise.resolve(ort.env.webgpu.device as GPUDevice | Promise<GPUDevice>);
  } catch {
    watchingDevice = false;
    return;
  }
  void device
    .then((d) =>
      d.lost.then((info) => {
        deviceLost = info.message || info.reason || 'lost';
        watchingDevice = false;
      }),
    )
    .catch(() => (watchingDevice = false));
}

/**
 * Switches the whole worker to WASM and says so: every other session is released (their graph bytes are kept
 * while on WebGPU, so they can be recreated on WASM); `keep` is the session being created right now.
 */
async function switchToWasm(s: Loaded, why: string, keep?: GraphRole): Promise<void> {
  if (s.provider === 'wasm') return;
  // A variant that cannot run on WASM (fp16, too large for the heap) fails here instead of failing obscurely.
  if (s.noWasm) throw new WorkerError('unsupported', `${why}, and WASM is no way out: ${s.noWasm}`);
  s.provider = 'wasm';
  lastFallback = why;
  const others = Object.entries(s.sessions).filter(([r]) => r !== keep);
  s.sessions = keep ? ({ [keep]: s.sessions[keep] } as Loaded['sessions']) : {};
  await Promise.all(others.map(([, p]) => p?.then((x) => x.release()).catch(() => undefined)));
  post({ kind: 'notice', message: `${why}; switched to WASM`, provider: 'wasm' });
}

/** Lazily created session per graph. */
function session(role: GraphRole): Promise<ort.InferenceSession> {
  const s = loaded();
  const p = (s.sessions[role] ??= createSession(s, role));
  p.catch(() => {
    if (s.sessions[role] === p) delete s.sessions[role];
  });
  return p;
}

interface RunOut {
  data: ort.Tensor.DataType;
  dims: readonly number[];
  timing: Timing;
}

/** Runs one graph with one input; disposes the input and every output tensor. */
async function runGraph(role: GraphRole, input: ort.Tensor, t0: number): Promise<RunOut> {
  track(input);
  try {
    const s = loaded();
    if (s.provider === 'webgpu' && deviceLost !== undefined) {
      await switchToWasm(s, `the WebGPU device was lost (${deviceLost})`);
    }
    try {
      return await runOnce(role, input, t0);
    } catch (e) {
      // A failure on WebGPU (device lost mid-run, out of memory, …): finish the work on WASM.
      if (s.provider !== 'webgpu' || state !== s) throw e;
      const why =
        deviceLost !== undefined
          ? `the WebGPU device was lost (${deviceLost})`
          : `WebGPU failed (${(e as Error).message})`;
      await switchToWasm(s, why);
      return await runOnce(role, input, t0);
    }
  } finally {
    dispose(input);
  }
}

async function runOnce(role: GraphRole, input: ort.Tensor, t0: number): Promise<RunOut> {
  const s0 = performance.now();
  const sess = await session(role);
  const sessionMs = performance.now() - s0;
  let outputs: ort.InferenceSession.OnnxValueMapType | undefined;
  const r0 = performance.now();
  try {
    outputs = await sess.run({ [sess.inputNames[0]!]: input });
    for (const _ of Object.values(outputs)) track(_ as ort.Tensor);
    const runMs = performance.now() - r0;
    const out = outputs[sess.outputNames[0]!] as ort.Tensor;
    const data = (await out.getData()) as ort.Tensor.DataType;
    // copy out of ORT-owned memory before disposing
    const copy = ArrayBuffer.isView(data) ? (data.slice() as ort.Tensor.DataType) : data;
    return { data: copy, dims: out.dims, timing: { runMs, sessionMs, totalMs: performance.now() - t0 } };
  } catch (e) {
    if (e instanceof WorkerError) throw e;
    throw new WorkerError('run', `${role} failed: ${(e as Error).message}`);
  } finally {
    if (outputs) for (const t of Object.values(outputs)) dispose(t as ort.Tensor);
  }
}

function toInt32(data: ort.Tensor.DataType): Int32Array {
  if (data instanceof Int32Array) return data;
  if (data instanceof BigInt64Array) return Int32Array.from(data, (v) => Number(v));
  if (ArrayBuffer.isView(data)) return Int32Array.from(data as unknown as ArrayLike<number>);
  throw new WorkerError('run', 'expected integer ids from the graph');
}

function toFloat32(data: ort.Tensor.DataType): Float32Array {
  if (data instanceof Float32Array) return data;
  if (ArrayBuffer.isView(data)) return Float32Array.from(data as unknown as ArrayLike<number>);
  throw new WorkerError('run', 'expected float32 output from the graph');
}

function checkDims(role: string, dims: readonly number[], want: number[]): void {
  if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
    throw new WorkerError(
      'run',
      `${role} returned shape [${dims.join(', ')}], the manifest implies [${want.join(', ')}]`,
    );
  }
}

// ---- handlers -------------------------------------------------------------------------------

type Handled<K extends RequestKind> = { result: ResultByKind[K]; transfer: Transferable[] };
type EmbedHandled = { result: EmbedResult; transfer: Transferable[] };

async function tokenize(
  rgba: ArrayBuffer,
  width: number,
  height: number,
  mode: PilMode | undefined,
): Promise<Handled<'tokenize'>> {
  const t0 = performance.now();
  const { manifest } = loaded();
  const S = manifest.image.size;
  let pixels: Float32Array;
  try {
    pixels = preprocess({ data: new Uint8ClampedArray(rgba), width, height, mode }, manifest.image);
  } catch (e) {
    throw new WorkerError('image', (e as Error).message);
  }
  const preprocessMs = performance.now() - t0;
  const input = new ort.Tensor('float32', pixels.slice(), [1, 3, S, S]);
  const out = await runGraph('vq_encoder', input, t0);
  const { h, w } = manifest.grid;
  checkDims('vq_encoder', out.dims, [1, h, w]);
  const ids = toInt32(out.data);
  return {
    result: {
      ids: ids.buffer as ArrayBuffer,
      h,
      w,
      pixels: pixels.buffer as ArrayBuffer,
      size: S,
      preprocessMs,
      timing: out.timing,
    },
    transfer: [ids.buffer, pixels.buffer],
  };
}

function idsTensor(ids: ArrayBuffer): ort.Tensor {
  const { manifest } = loaded();
  const { h, w } = manifest.grid;
  const arr = new Int32Array(ids);
  if (arr.length !== h * w) throw new WorkerError('run', `expected ${h}×${w} ids, got ${arr.length}`);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i]!;
    if (v < 0 || v >= manifest.codebook.size)
      throw new WorkerError('run', `id ${v} at ${i} is outside the codebook`);
  }
  return new ort.Tensor('int32', arr, [1, h, w]);
}

async function decode(ids: ArrayBuffer): Promise<Handled<'decode'>> {
  const t0 = performance.now();
  const S = loaded().manifest.image.size;
  const out = await runGraph('vq_decoder', idsTensor(ids), t0);
  checkDims('vq_decoder', out.dims, [1, 3, S, S]);
  const image = toFloat32(out.data);
  return {
    result: { image: image.buffer as ArrayBuffer, size: S, timing: out.timing },
    transfer: [image.buffer],
  };
}

async function embed(role: GraphRole, input: ort.Tensor, n: number, t0: number): Promise<EmbedHandled> {
  const E = loaded().manifest.embed_dim;
  const out = await runGraph(role, input, t0);
  checkDims(role, out.dims, [n, E]);
  const emb = toFloat32(out.data);
  return {
    result: { embeddings: emb.buffer as ArrayBuffer, dim: E, timing: out.timing },
    transfer: [emb.buffer],
  };
}

async function embedTeacher(pixels: ArrayBuffer): Promise<EmbedHandled> {
  const t0 = performance.now();
  const { manifest } = loaded();
  if (!manifest.teacher) throw new WorkerError('run', 'this model has no teacher image encoder');
  const S = manifest.image.size;
  const arr = new Float32Array(pixels);
  if (arr.length !== 3 * S * S)
    throw new WorkerError('image', `expected 3×${S}×${S} pixels, got ${arr.length}`);
  return embed('teacher_image_encoder', new ort.Tensor('float32', arr, [1, 3, S, S]), 1, t0);
}

async function embedText(prompts: string[]): Promise<Handled<'embedText'>> {
  const t0 = performance.now();
  const { tokenizer, table } = loaded();
  if (prompts.length === 0) throw new WorkerError('text', 'no prompts to embed');
  let ids: Int32Array;
  try {
    ids = tokenizer.encodeBatch(prompts);
  } catch (e) {
    throw new WorkerError('text', (e as Error).message);
  }
  const L = tokenizer.contextLength;
  let input: ort.Tensor;
  if (table) {
    // text.input "embeddings": the rows are looked up here, on the CPU; the table never reaches the device.
    let embeds: Float32Array;
    try {
      embeds = await table.gather(ids);
    } catch (e) {
      if (e instanceof WorkerError) throw e;
      throw new WorkerError('text', (e as Error).message);
    }
    input = new ort.Tensor('float32', embeds, [prompts.length, L, table.spec.dim]);
  } else {
    input = new ort.Tensor('int32', ids.slice(), [prompts.length, L]);
  }
  const r = await embed('text_encoder', input, prompts.length, t0);
  return { result: { ...r.result, ids: ids.buffer as ArrayBuffer }, transfer: [...r.transfer, ids.buffer] };
}

/**
 * Lab runs (and search queries, as `text:<slot>`) announced per slot as they arrive, so a queued older run can
 * see that it was superseded.
 */
const labLatest = new LatestBySlot();

function supersededText(): Handled<'embedText'> {
  const E = loaded().manifest.embed_dim;
  return {
    result: {
      embeddings: new ArrayBuffer(0),
      ids: new ArrayBuffer(0),
      dim: E,
      timing: { runMs: 0, totalMs: 0, sessionMs: 0 },
      superseded: true,
    },
    transfer: [],
  };
}

/**
 * Token lab: the edited ids decoded (generation side) and embedded (comprehension side), and the teacher on the
 * decoded pixels. Same sessions as the image pipeline; each graph runs through runGraph, which disposes its tensors.
 */
async function labRun(req: LabRunRequest): Promise<Handled<'labRun'>> {
  const t0 = performance.now();
  const stale = () => labLatest.isSuperseded(req.slot, req.seq);
  const dropped: Handled<'labRun'> = {
    result: { slot: req.slot, seq: req.seq, superseded: true },
    transfer: [],
  };
  if (stale()) return dropped;
  const { manifest } = loaded();
  const S = manifest.image.size;
  const E = manifest.embed_dim;
  const dec = await runGraph('vq_decoder', idsTensor(req.ids), t0);
  checkDims('vq_decoder', dec.dims, [1, 3, S, S]);
  if (stale()) return dropped;
  const emb = await runGraph('semantic_encoder', idsTensor(req.ids), t0);
  checkDims('semantic_encoder', emb.dims, [1, E]);
  const image = toFloat32(dec.data);
  const embedding = toFloat32(emb.data);
  let teacher: { embedding: Float32Array; ms: number } | undefined;
  if (manifest.teacher) {
    if (stale()) return dropped;
    // The teacher reads pixels: the decoded picture goes through the app's preprocessing like any image, as the
    // 8-bit RGB a saved PNG of it would hold (at S×S the resize and the crop are the identity).
    const pixels = preprocess(
      { data: chwToRgba(image, S, S), width: S, height: S, mode: 'RGB' },
      manifest.image,
    );
    const te = await runGraph('teacher_image_encoder', new ort.Tensor('float32', pixels, [1, 3, S, S]), t0);
    checkDims('teacher_image_encoder', te.dims, [1, E]);
    teacher = { embedding: toFloat32(te.data), ms: te.timing.runMs };
  }
  return {
    result: {
      slot: req.slot,
      seq: req.seq,
      superseded: false,
      image: image.buffer as ArrayBuffer,
      size: S,
      embedding: embedding.buffer as ArrayBuffer,
      teacherEmbedding: teacher?.embedding.buffer as ArrayBuffer | undefined,
      dim: E,
      decodeMs: dec.timing.runMs,
      embedMs: emb.timing.runMs,
      teacherMs: teacher?.ms,
      totalMs: performance.now() - t0,
    },
    transfer: [image.buffer, embedding.buffer, ...(teacher ? [teacher.embedding.buffer] : [])],
  };
}

/** Decoded-patch previews: each code decoded as a uniform square of itself, its centre token's pixels cropped. */
async function codePatches(codes: number[]): Promise<Handled<'codePatches'>> {
  const { manifest } = loaded();
  const S = manifest.image.size;
  const grid = manifest.grid;
  for (const c of codes)
    if (!Number.isInteger(c) || c < 0 || c >= manifest.codebook.size)
      throw new WorkerError('run', `code ${c} is outside the codebook`);
  // every cell box of a grid that tiles S has the size of the first one or one pixel more: crop that size
  const { width, height } = cellBox(S, grid, 0);
  const out = new Uint8ClampedArray(codes.length * width * height * 4);
  let k = 0;
  for (const run of patchRuns(grid, codes)) {
    const t0 = performance.now();
    const dec = await runGraph('vq_decoder', idsTensor(run.ids.buffer as ArrayBuffer), t0);
    checkDims('vq_decoder', dec.dims, [1, 3, S, S]);
    const image = toFloat32(dec.data);
    for (const { cell } of run.places) {
      const box = { ...cellBox(S, grid, cell), width, height };
      out.set(cropRgba(image, S, box), k * width * height * 4);
      k++;
    }
  }
  return { result: { codes, patches: out.buffer, width, height }, transfer: [out.buffer] };
}

/** Times session.run of one graph on a fixed input (npm run bench). Runs through the request queue. */
async function bench(req: DebugRequest): Promise<number[]> {
  const { manifest } = loaded();
  const role = req.role ?? 'vq_encoder';
  const S = manifest.image.size;
  const { h, w } = manifest.grid;
  const L = manifest.text.context_length;
  const make = (): ort.Tensor => {
    if (role === 'vq_encoder' || role === 'teacher_image_encoder') {
      const px = new Float32Array(3 * S * S);
      for (let i = 0; i < px.length; i++) px[i] = (i / px.length) * 2 - 1;
      return new ort.Tensor('float32', px, [1, 3, S, S]);
    }
    const table = embeddingTable(manifest);
    if (role === 'text_encoder' && table) {
      const x = Float32Array.from({ length: L * table.dim }, (_, i) => (((i * 7 + 5) % 100) - 50) / 500);
      return new ort.Tensor('float32', x, [1, L, table.dim]);
    }
    if (role === 'text_encoder')
      return new ort.Tensor(
        'int32',
        Int32Array.from({ length: L }, (_, i) => (i * 7 + 5) % 100),
        [1, L],
      );
    return new ort.Tensor(
      'int32',
      Int32Array.from({ length: h * w }, (_, i) => (i * 37) % manifest.codebook.size),
      [1, h, w],
    );
  };
  const times: number[] = [];
  const total = (req.warmup ?? 3) + (req.runs ?? 20);
  const run = async () => {
    for (let i = 0; i < total; i++) {
      const input = make();
      const t0 = performance.now();
      const out = await runGraph(role, input, t0); // includes reading the output back, as the app does
      if (i >= total - (req.runs ?? 20)) times.push(out.timing.totalMs);
    }
  };
  const done = queue.then(run);
  queue = done.catch(() => undefined);
  await done;
  return times;
}

async function debug(req: DebugRequest): Promise<DebugResult> {
  if (!debugEnabled) throw new WorkerError('internal', 'debug requests need ?debug=1');
  switch (req.action) {
    case 'crash':
      // An uncaught error outside any promise: the page sees the worker's `error` event, as for a real crash.
      setTimeout(() => {
        throw new Error('debug: the inference worker was told to crash');
      });
      break;
    case 'lose-device': {
      if (state?.provider !== 'webgpu') throw new WorkerError('internal', 'not running on WebGPU');
      const device = await Promise.resolve(ort.env.webgpu.device as GPUDevice | Promise<GPUDevice>);
      device.destroy();
      await device.lost;
      break;
    }
    case 'stats':
      break;
    case 'bench': {
      const times = await bench(req); // first: the stats below must see the state after the runs
      return { ...(await debug({ ...req, action: 'stats' })), times };
    }
  }
  // With --js-flags=--expose-gc (memory tests) collect first, so the heap figure is what is really kept.
  const gc = (self as unknown as { gc?: () => void }).gc;
  if (req.action === 'stats' && typeof gc === 'function') gc();
  const mem = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return {
    liveTensors,
    tensorsCreated,
    sessions: state ? Object.keys(state.sessions) : [],
    provider: state?.provider ?? null,
    deviceLost,
    usedJSHeapSize: mem?.usedJSHeapSize,
  };
}

async function handle(req: WorkerRequest): Promise<void> {
  try {
    switch (req.kind) {
      case 'debug': {
        const result = await debug(req);
        post({ kind: 'result', requestId: req.requestId, request: 'debug', result });
        return;
      }
      case 'cacheList': {
        const result = { models: await listCachedModels() };
        post({ kind: 'result', requestId: req.requestId, request: 'cacheList', result });
        return;
      }
      case 'cacheDelete': {
        const result = await deleteCachedModel(req.sourceKey);
        post({ kind: 'result', requestId: req.requestId, request: 'cacheDelete', result });
        return;
      }
      case 'load': {
        if (req.debug) debugEnabled = true;
        if (req.reportPlacements) capturePlacementLog();
        const result = await load(req);
        post({ kind: 'ready', requestId: req.requestId, result }, [result.codebook, result.codeColours]);
        prewarm();
        return;
      }
      case 'tokenize': {
        const { result, transfer } = await tokenize(req.rgba, req.width, req.height, req.mode);
        post({ kind: 'result', requestId: req.requestId, request: 'tokenize', result }, transfer);
        return;
      }
      case 'decode': {
        const { result, transfer } = await decode(req.ids);
        post({ kind: 'result', requestId: req.requestId, request: 'decode', result }, transfer);
        return;
      }
      case 'embedImage': {
        const t0 = performance.now();
        const { result, transfer } = await embed('semantic_encoder', idsTensor(req.ids), 1, t0);
        post({ kind: 'result', requestId: req.requestId, request: 'embedImage', result }, transfer);
        return;
      }
      case 'embedTeacher': {
        const { result, transfer } = await embedTeacher(req.pixels);
        post({ kind: 'result', requestId: req.requestId, request: 'embedTeacher', result }, transfer);
        return;
      }
      case 'embedText': {
        const { result, transfer } =
          req.supersede && labLatest.isSuperseded(`text:${req.supersede.slot}`, req.supersede.seq)
            ? supersededText()
            : await embedText(req.prompts);
        post({ kind: 'result', requestId: req.requestId, request: 'embedText', result }, transfer);
        return;
      }
      case 'codePatches': {
        const { result, transfer } = await codePatches(req.codes);
        post({ kind: 'result', requestId: req.requestId, request: 'codePatches', result }, transfer);
        return;
      }
      case 'labRun': {
        const { result, transfer } = await labRun(req);
        post({ kind: 'result', requestId: req.requestId, request: 'labRun', result }, transfer);
        return;
      }
      default: {
        const never: never = req;
        throw new WorkerError('internal', `unknown request ${JSON.stringify(never)}`);
      }
    }
  } catch (e) {
    const err =
      e instanceof WorkerError ? e : new WorkerError('internal', e instanceof Error ? e.message : String(e));
    post({
      kind: 'error',
      requestId: req.requestId,
      error: { code: err.code, message: err.message, file: err.file },
    });
  }
}

/**
 * After a load, create the remaining sessions in the background — through the same queue, so never
 * concurrently with a run. Each stays lazily created (`??=`): a request that comes first just creates it.
 */
function prewarm(): void {
  const s = state;
  if (!s) return;
  for (const role of s.graphs.keys()) {
    queue = queue.then(async () => {
      if (state !== s) return;
      await session(role).catch(() => undefined);
    });
  }
}

// One request at a time, in arrival order.
let queue: Promise<void> = Promise.resolve();
self.addEventListener('message', (e: MessageEvent<WorkerRequest>) => {
  const req = e.data;
  if (req.kind === 'labRun') labLatest.note(req.slot, req.seq);
  if (req.kind === 'embedText' && req.supersede)
    labLatest.note(`text:${req.supersede.slot}`, req.supersede.seq);
  if (req.kind === 'debug' || req.kind === 'cacheList' || req.kind === 'cacheDelete')
    void handle(req); // at once, even while a run is in progress (the cache requests touch no session)
  else queue = queue.then(() => handle(req));
});
