/** App state (zustand). Large typed arrays live here; the UI never touches ORT tensors. */
import { create } from 'zustand';
import type { GpuFacts } from '../lib/capacity';
import type { GraphRole, Manifest } from '../lib/manifest';
import type { NodePlacement } from '../lib/placements';
import type { AdapterFacts, Provider } from '../lib/provider';
import type { History, Selection } from '../lib/tokenEdit';

export type ImageStatus =
  'queued' | 'decoding' | 'tokenizing' | 'reconstructing' | 'embedding' | 'done' | 'error' | 'cancelled';

/** Statuses of images that still have work ahead (or in progress). */
export const ACTIVE_STATUSES: readonly ImageStatus[] = [
  'queued',
  'decoding',
  'tokenizing',
  'reconstructing',
  'embedding',
];

export type Stage =
  | 'decode image'
  | 'preprocess'
  | 'VQ encode'
  | 'VQ decode'
  | 'semantic encode'
  | 'teacher encode'
  | 'metrics'
  | 'total'
  | 'drop to panels';

export interface ImageItem {
  id: string;
  name: string;
  bytes: number;
  /** object URL of the dropped file (never uploaded anywhere) */
  url: string | null;
  status: ImageStatus;
  error?: string;
  /** the error is about the file itself (re-running with another model or provider will not help) */
  inputError?: boolean;
  /** facts about the input worth telling (animated GIF: first frame; CMYK; EXIF rotation; …) */
  notes?: string[];
  width?: number;
  height?: number;
  grid?: { h: number; w: number };
  /** [h*w] token ids */
  ids?: Int32Array;
  /** model resolution */
  size?: number;
  /** CHW RGB in [0,1] at model resolution: what the encoder saw */
  modelRgb?: Float32Array;
  /** CHW RGB in [0,1] decoded from the ids */
  recon?: Float32Array;
  psnr?: number;
  ssim?: number;
  /** [h', w'] mean abs error per pixel, S×S */
  errorMap?: Float32Array;
  embedding?: Float32Array;
  teacherEmbedding?: Float32Array;
  timings: Partial<Record<Stage, number>>;
  /** performance.now() when it was (last) queued */
  queuedAt?: number;
}

export interface FileProgress {
  file: string;
  role: string;
  loaded: number;
  total: number;
  status: 'initiate' | 'progress' | 'verifying' | 'done';
}

export interface ModelState {
  id: string;
  status: 'idle' | 'loading' | 'ready' | 'error';
  manifest?: Manifest;
  /** absolute URL of the model folder (manifest paths such as samples resolve against it); unset for disk */
  baseUrl?: string;
  /** where the model was read from: a folder of a web server, or a folder on this computer (never cached) */
  origin?: { kind: 'http'; url: string } | { kind: 'disk'; name: string };
  /** why a sibling export (manifest `variants`) is in use instead of the folder asked for */
  variantNote?: string;
  /** sha256 of manifest.json when the worker read its bytes (disk) */
  manifestSha256?: string;
  /** a disk model's sample pictures: manifest path → blob: URL, revoked once another model replaces it */
  sampleUrls?: Record<string, string>;
  files: Record<string, FileProgress>;
  error?: { message: string; file?: string };
  /** a later load (another folder or a reload) that failed while this model stayed in use */
  loadError?: { id: string; message: string; file?: string };
  codebook?: Float32Array;
  codeColours?: Uint8ClampedArray;
  loadMs?: number;
  numThreads?: number;
  crossOriginIsolated?: boolean;
  /** text.input "embeddings": how the token-embedding table is read */
  textTable?: { mode: 'whole' | 'range'; bytes: number };
  /** what the model was checked against (WASM heap, or the WebGPU device's buffer limits) */
  limits?: { wasmHeapBytes?: number; gpu?: GpuFacts };
}

export interface ProviderState {
  /** provider forced by the URL or the UI; null = automatic */
  forced: Provider | null;
  active: Provider | null;
  reason: string;
  notice?: string;
  adapter?: AdapterFacts;
  /**
   * debug (?debug=providers): per graph, the provider its session was created for and where onnxruntime put
   * its nodes (null placement: not logged). Cleared when a model load starts.
   */
  placements?: Partial<Record<GraphRole, { provider: Provider; placement: NodePlacement | null }>>;
}

export interface Prompt {
  id: string;
  text: string;
}

export interface TextState {
  /** embedding per prompt text */
  embeddings: Record<string, Float32Array>;
  pending: boolean;
  error?: string;
  lastMs?: number;
}

/** What the worker made of one id grid in the token lab. */
export interface LabResult {
  /** the ids it was computed from */
  ids: Int32Array;
  /** CHW RGB in [0,1] at model resolution, decoded from the ids */
  recon: Float32Array;
  /** TokLIP embedding of the ids */
  embedding: Float32Array;
  /** teacher embedding of `recon` (absent: the model has no teacher) */
  teacherEmbedding?: Float32Array;
  /** from sending the ids to having this result, ms: what the user waited */
  ms: number;
  /** the worker's own share of `ms`: graph time per stage and its total, ms (the rest is queueing and messages) */
  worker: { decodeMs: number; embedMs: number; teacherMs?: number; totalMs: number };
}

/** The token lab of one image (src/store/lab.ts). */
export interface LabState {
  open: boolean;
  grid: { h: number; w: number };
  /** the image's own ids when the lab was opened (the lab is dropped if the image is re-tokenized) */
  original: Int32Array;
  /** undo/redo; `history.present` is the grid being edited */
  history: History;
  selection: Selection;
  /** code chosen in the codebook picker */
  code: number;
  /** codebook picker search text */
  query: string;
  /** image whose tokens "copy" takes, and the offset it takes them at */
  copySource: string | null;
  copyOffset: { row: number; col: number };
  /** seed of the next shuffle (advanced by each shuffle, so two shuffles differ but a session is reproducible) */
  shuffleSeed: number;
  /** the unedited ids run through the lab: the baseline of every Δ */
  base?: LabResult;
  /** the latest edit's result (may lag `history.present` while `pendingSeq` is set) */
  result?: LabResult;
  /** sequence number of the newest edit run sent and not yet answered */
  pendingSeq: number | null;
  error?: string;
  /** for the lab's live region, e.g. "re-decoded in 85 ms" */
  message: string;
}

export interface AppState {
  model: ModelState;
  provider: ProviderState;
  images: ImageItem[];
  prompts: Prompt[];
  text: TextState;
  /** polite announcements for screen readers */
  announcement: string;
  /** images added since the queue was last empty (the batch the progress bar counts) */
  queueTotal: number;
  /** the worker stopped and was restarted: shown until dismissed */
  workerNotice?: string;
  /** token lab per image id */
  labs: Record<string, LabState>;
  /** decoded-patch previews (RGBA8, width×height) per code, for the model in use (src/store/lab.ts) */
  codePatches: { width: number; height: number; byCode: Record<number, Uint8ClampedArray> };
  updateImage: (id: string, patch: Partial<ImageItem>) => void;
  setTiming: (id: string, stage: Stage, ms: number) => void;
}

let promptSeq = 0;
export const newPromptId = (): string => `p${++promptSeq}`;

export const useStore = create<AppState>()((set) => ({
  model: { id: '', status: 'idle', files: {} },
  provider: { forced: null, active: null, reason: 'checking WebGPU…' },
  images: [],
  prompts: [],
  text: { embeddings: {}, pending: false },
  announcement: '',
  queueTotal: 0,
  labs: {},
  codePatches: { width: 0, height: 0, byCode: {} },
  updateImage: (id, patch) =>
    set((s) => ({ images: s.images.map((im) => (im.id === id ? { ...im, ...patch } : im)) })),
  setTiming: (id, stage, ms) =>
    set((s) => ({
      images: s.images.map((im) => (im.id === id ? { ...im, timings: { ...im.timings, [stage]: ms } } : im)),
    })),
}));
