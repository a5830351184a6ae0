/**
 * Typed messages between the UI and the inference worker. Every request carries a `requestId`; the
 * worker answers with exactly one `result` or `error` for it (plus `progress` / `notice` events on the way).
 */
import type { CachedModel } from '../lib/cacheEntries';
import type { GpuFacts, TableFetch } from '../lib/capacity';
import type { GraphRole, Manifest } from '../lib/manifest';
import type { NodePlacement } from '../lib/placements';
import type { PilMode } from '../lib/pngPixels';
import type { Provider } from '../lib/provider';
import type { SourceSpec } from './sources';

export type ErrorCode =
  | 'manifest' // manifest missing, unparsable or invalid
  | 'download' // a model file could not be fetched
  | 'integrity' // size or sha256 mismatch
  | 'session' // an ONNX session could not be created
  | 'run' // a graph failed to run or returned an unexpected shape
  | 'image' // the input image could not be used
  | 'text' // tokenizer problems
  | 'not-loaded' // a request before `load` finished
  | 'graph' // a graph's declared shapes disagree with the manifest
  | 'unsupported' // the model's variant or memory needs more than this browser offers
  | 'crashed' // the worker died while the request was pending
  | 'internal';

export interface WorkerErrorInfo {
  code: ErrorCode;
  message: string;
  file?: string;
}

export interface Timing {
  /** time in the graph (session.run), ms */
  runMs: number;
  /** everything the worker did for the request incl. pre/post processing and lazy session creation, ms */
  totalMs: number;
  /** lazy session creation, ms (0 when the session existed) */
  sessionMs: number;
}

// ---- requests (UI → worker) --------------------------------------------------------------

// Each model source declares its own spec (src/worker/sources/*.ts); the union is in sources/index.ts.
export type { DiskFile, DiskSourceSpec, HttpSourceSpec, SourceSpec } from './sources';

export interface LoadRequest {
  kind: 'load';
  requestId: number;
  /** where the model folder is (src/worker/sources) */
  source: SourceSpec;
  provider: Provider;
  /** WASM threads to use */
  numThreads: number;
  /** absolute URL prefix of onnxruntime-web's .mjs/.wasm files */
  ortBaseUrl: string;
  useCache: boolean;
  /** enables `debug` requests (the page was opened with ?debug=1) */
  debug?: boolean;
  /**
   * report which execution provider each session's nodes were assigned to (`placement` events; the page was
   * opened with ?debug=providers): sessions log verbosely, and the worker reads the log
   */
  reportPlacements?: boolean;
  /** how to read a token-embedding table (text.input "embeddings"); default 'auto' (whole when small) */
  tableFetch?: TableFetch;
}

export interface TokenizeRequest {
  kind: 'tokenize';
  requestId: number;
  /** RGBA8, row-major (transferred) */
  rgba: ArrayBuffer;
  width: number;
  height: number;
  /** the mode Pillow opens the file in, when the decoder knows it (src/lib/pngPixels.ts) */
  mode?: PilMode;
}

export interface DecodeRequest {
  kind: 'decode';
  requestId: number;
  /** [h*w] int32 ids (transferred) */
  ids: ArrayBuffer;
}

export interface EmbedImageRequest {
  kind: 'embedImage';
  requestId: number;
  ids: ArrayBuffer;
}

export interface EmbedTeacherRequest {
  kind: 'embedTeacher';
  requestId: number;
  /** normalised CHW float32 [3, S, S] (transferred) */
  pixels: ArrayBuffer;
}

/**
 * Token lab: decode, embed and teacher-score an edited id grid in one request. Runs with the same `slot` supersede
 * each other: when a run's turn comes (or between its graphs) and a higher `seq` for its slot has arrived, it stops
 * and answers `superseded` instead of running, so rapid edits never wait behind each other's graphs.
 */
export interface LabRunRequest {
  kind: 'labRun';
  requestId: number;
  /** e.g. `${imageId}/edit`; the unedited baseline uses its own slot so an edit cannot drop it */
  slot: string;
  /** increases with every run sent for the slot */
  seq: number;
  /** [h*w] int32 ids (transferred) */
  ids: ArrayBuffer;
}

/**
 * Decoded-patch previews of codebook entries (src/lib/codePatches.ts): one decoder run per `codesPerRun` codes,
 * so callers send one run's worth at a time and edits never wait behind many.
 */
export interface CodePatchesRequest {
  kind: 'codePatches';
  requestId: number;
  codes: number[];
}

export interface EmbedTextRequest {
  kind: 'embedText';
  requestId: number;
  prompts: string[];
  /**
   * Gallery search: queries typed into one box supersede each other (same rule as `labRun`'s slot/seq); a query
   * whose turn comes after a newer one arrived is answered `superseded` without running the text tower.
   */
  supersede?: { slot: string; seq: number };
}

/**
 * Test hooks, honoured only after a `load` with `debug: true`; handled at once, not queued behind runs.
 * crash: the worker throws an uncaught error (as if it had died); lose-device: destroys the WebGPU device;
 * stats: live tensors and sessions (memory tests).
 */
export interface DebugRequest {
  kind: 'debug';
  requestId: number;
  action: 'crash' | 'lose-device' | 'stats' | 'bench';
  /** bench: the graph to time, with how many timed runs after how many warm-up runs */
  role?: GraphRole;
  runs?: number;
  warmup?: number;
}

/** The model cache (src/worker/modelCache.ts): handled at once, not queued behind runs. */
export interface CacheListRequest {
  kind: 'cacheList';
  requestId: number;
}

/** Removes one model folder's cached files; a model in use keeps working (its bytes are in memory). */
export interface CacheDeleteRequest {
  kind: 'cacheDelete';
  requestId: number;
  sourceKey: string;
}

export type WorkerRequest =
  | LoadRequest
  | TokenizeRequest
  | DecodeRequest
  | EmbedImageRequest
  | EmbedTeacherRequest
  | EmbedTextRequest
  | LabRunRequest
  | CodePatchesRequest
  | DebugRequest
  | CacheListRequest
  | CacheDeleteRequest;

export type RequestKind = WorkerRequest['kind'];

// ---- results -------------------------------------------------------------------------------

export interface LoadResult {
  manifest: Manifest;
  provider: Provider;
  /** set when the requested provider could not be used */
  fallbackReason?: string;
  numThreads: number;
  crossOriginIsolated: boolean;
  /** codebook [size, dim] float32 */
  codebook: ArrayBuffer;
  /** RGB8 colour per code from a PCA of the codebook, [size, 3] */
  codeColours: ArrayBuffer;
  /** tokenizer.json parsed ok */
  downloadMs: number;
  fromCache: boolean;
  /** sha256 of manifest.json's bytes, when the source read them (disk; an HTTP folder's is fetched again) */
  manifestSha256?: string;
  /**
   * set when the folder asked for cannot run here and a sibling export (manifest `variants`) was opened instead:
   * its dtype, the folder's URL, and why the one asked for was refused
   */
  variant?: { from: string; dtype: string; why: string; url: string };
  /** text.input "embeddings": how the token-embedding table is read */
  textTable?: { mode: 'whole' | 'range'; bytes: number };
  /** what the model was checked against: the WASM heap or the WebGPU device */
  limits: { wasmHeapBytes?: number; gpu?: GpuFacts };
}

export interface TokenizeResult {
  /** [h*w] int32 */
  ids: ArrayBuffer;
  h: number;
  w: number;
  /** normalised CHW float32 [3, S, S] the encoder saw */
  pixels: ArrayBuffer;
  size: number;
  preprocessMs: number;
  timing: Timing;
}

export interface DecodeResult {
  /** CHW float32 RGB in [0,1], [3, S, S] */
  image: ArrayBuffer;
  size: number;
  timing: Timing;
}

export interface EmbedResult {
  /** [n, E] float32, l2-normalised */
  embeddings: ArrayBuffer;
  dim: number;
  timing: Timing;
}

export interface EmbedTextResult extends EmbedResult {
  /** [n, L] int32 token ids fed to the text encoder */
  ids: ArrayBuffer;
  /** set (with empty buffers) when the request's `supersede` slot had a newer query: nothing ran */
  superseded?: true;
}

export type LabRunResult =
  | { slot: string; seq: number; superseded: true }
  | {
      slot: string;
      seq: number;
      superseded: false;
      /** CHW float32 RGB in [0,1], [3, S, S], decoded from the ids */
      image: ArrayBuffer;
      size: number;
      /** [E] TokLIP embedding of the same ids (l2-normalised) */
      embedding: ArrayBuffer;
      /** [E] teacher embedding of the decoded picture, preprocessed as any 8-bit image (absent: no teacher) */
      teacherEmbedding?: ArrayBuffer;
      dim: number;
      /** graph time per stage and the worker's total, ms */
      decodeMs: number;
      embedMs: number;
      teacherMs?: number;
      totalMs: number;
    };

export interface CodePatchesResult {
  codes: number[];
  /** RGBA8 patch per code, in `codes` order: [n, height, width, 4] */
  patches: ArrayBuffer;
  width: number;
  height: number;
}

export interface DebugResult {
  /** ORT tensors created by the worker and not yet disposed */
  liveTensors: number;
  tensorsCreated: number;
  sessions: string[];
  provider: Provider | null;
  deviceLost?: string;
  /** the worker's JS heap (Chromium performance.memory), when exposed */
  usedJSHeapSize?: number;
  /** bench: session.run wall time per timed run, ms */
  times?: number[];
}

export interface CacheListResult {
  models: CachedModel[];
}

export interface CacheDeleteResult {
  files: number;
  bytes: number;
}

export interface ResultByKind {
  load: LoadResult;
  tokenize: TokenizeResult;
  decode: DecodeResult;
  embedImage: EmbedResult;
  embedTeacher: EmbedResult;
  embedText: EmbedTextResult;
  labRun: LabRunResult;
  codePatches: CodePatchesResult;
  debug: DebugResult;
  cacheList: CacheListResult;
  cacheDelete: CacheDeleteResult;
}

// ---- responses (worker → UI) ----------------------------------------------------------------

export interface ProgressEvent {
  kind: 'progress';
  requestId: number;
  file: string;
  role: string;
  loaded: number;
  total: number;
  status: 'initiate' | 'progress' | 'verifying' | 'done';
}

export interface NoticeEvent {
  kind: 'notice';
  /** e.g. WebGPU failed and the worker switched to WASM */
  message: string;
  provider: Provider;
}

/** Why a verified file (or a folder's record) could not be stored in the model cache. */
export interface CacheFailure {
  /** 'quota': the browser refused for lack of space (QuotaExceededError) */
  reason: 'quota' | 'error';
  detail: string;
}

/**
 * A load could not keep the model in Cache Storage (sent at most once per load). The load goes on: the model works
 * from memory and is downloaded again next time. Its own kind, not a `notice`: those switch the provider.
 */
export interface CacheNoticeEvent extends CacheFailure {
  kind: 'cacheNotice';
}

/** Debug (`reportPlacements`): where onnxruntime put the nodes of a session just created. */
export interface PlacementEvent {
  kind: 'placement';
  role: GraphRole;
  /** the provider the session was created for */
  provider: Provider;
  /** null: the log had no placement summary (unknown, not "all on `provider`") */
  placement: NodePlacement | null;
}

export interface ReadyEvent {
  kind: 'ready';
  requestId: number;
  result: LoadResult;
}

export type ResultEvent = {
  [K in Exclude<RequestKind, 'load'>]: {
    kind: 'result';
    requestId: number;
    request: K;
    result: ResultByKind[K];
  };
}[Exclude<RequestKind, 'load'>];

export interface ErrorEvent {
  kind: 'error';
  requestId: number;
  error: WorkerErrorInfo;
}

export type WorkerResponse =
  ProgressEvent | NoticeEvent | CacheNoticeEvent | PlacementEvent | ReadyEvent | ResultEvent | ErrorEvent;
