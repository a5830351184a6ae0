/**
 * The UI side of the worker protocol: one module worker, created once; promise per request; progress and
 * notice events delivered to subscribers. The UI never sees an ORT tensor.
 */
import type { GraphRole } from '../lib/manifest';
import type {
  CacheNoticeEvent,
  ErrorCode,
  LoadRequest,
  NoticeEvent,
  PlacementEvent,
  ProgressEvent,
  RequestKind,
  ResultByKind,
  WorkerRequest,
  WorkerResponse,
} from './protocol';

export class InferenceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'InferenceError';
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type RequestBody = DistributiveOmit<WorkerRequest, 'requestId'>;

export class InferenceClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private progressListeners = new Set<(e: ProgressEvent) => void>();
  private noticeListeners = new Set<(e: NoticeEvent) => void>();
  private crashListeners = new Set<(message: string) => void>();
  private placementListeners = new Set<(e: PlacementEvent) => void>();
  private cacheNoticeListeners = new Set<(e: CacheNoticeEvent) => void>();

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./inference.worker.ts', import.meta.url), {
      type: 'module',
      name: 'toklip-inference',
    });
    w.addEventListener('message', (e: MessageEvent<WorkerResponse>) => this.onMessage(e.data));
    w.addEventListener('error', (e) => this.onCrash(e.message || 'the inference worker stopped'));
    w.addEventListener('messageerror', () =>
      this.onCrash('a message from the inference worker could not be read'),
    );
    this.worker = w;
    return w;
  }

  private onCrash(message: string): void {
    this.worker?.terminate();
    this.worker = null;
    for (const p of this.pending.values())
      p.reject(new InferenceError('crashed', `the inference worker stopped: ${message}`));
    this.pending.clear();
    for (const l of this.crashListeners) l(message);
  }

  private onMessage(msg: WorkerResponse): void {
    switch (msg.kind) {
      case 'progress':
        for (const l of this.progressListeners) l(msg);
        return;
      case 'notice':
        for (const l of this.noticeListeners) l(msg);
        return;
      case 'placement':
        for (const l of this.placementListeners) l(msg);
        return;
      case 'cacheNotice':
        for (const l of this.cacheNoticeListeners) l(msg);
        return;
      case 'ready':
      case 'result': {
        const p = this.pending.get(msg.requestId);
        this.pending.delete(msg.requestId);
        p?.resolve(msg.result);
        return;
      }
      case 'error': {
        const p = this.pending.get(msg.requestId);
        this.pending.delete(msg.requestId);
        p?.reject(new InferenceError(msg.error.code, msg.error.message, msg.error.file));
        return;
      }
    }
  }

  request<K extends RequestKind>(
    body: Extract<RequestBody, { kind: K }>,
    transfer: Transferable[] = [],
  ): Promise<ResultByKind[K]> {
    const w = this.ensure();
    const requestId = this.nextId++;
    return new Promise<ResultByKind[K]>((resolve, reject) => {
      this.pending.set(requestId, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ ...body, requestId } as WorkerRequest, transfer);
    });
  }

  load(body: Omit<LoadRequest, 'kind' | 'requestId'>): Promise<ResultByKind['load']> {
    return this.request<'load'>({ kind: 'load', ...body });
  }

  /** Test hooks (only honoured by a worker loaded with `debug: true`, i.e. a page opened with ?debug=1). */
  debug(
    action: 'crash' | 'lose-device' | 'stats' | 'bench',
    bench: { role?: GraphRole; runs?: number; warmup?: number } = {},
  ): Promise<ResultByKind['debug']> {
    return this.request<'debug'>({ kind: 'debug', action, ...bench });
  }

  /** Model folders in Cache Storage, with sizes and last use. */
  listCache(): Promise<ResultByKind['cacheList']> {
    return this.request<'cacheList'>({ kind: 'cacheList' });
  }

  /** Removes one model folder (by its source key) from Cache Storage. */
  deleteCached(sourceKey: string): Promise<ResultByKind['cacheDelete']> {
    return this.request<'cacheDelete'>({ kind: 'cacheDelete', sourceKey });
  }

  /** A load could not store the model in Cache Storage (a full quota, …): it works but is not kept. */
  onCacheNotice(l: (e: CacheNoticeEvent) => void): () => void {
    this.cacheNoticeListeners.add(l);
    return () => this.cacheNoticeListeners.delete(l);
  }

  onProgress(l: (e: ProgressEvent) => void): () => void {
    this.progressListeners.add(l);
    return () => this.progressListeners.delete(l);
  }

  onNotice(l: (e: NoticeEvent) => void): () => void {
    this.noticeListeners.add(l);
    return () => this.noticeListeners.delete(l);
  }

  /** Debug: where each new session's nodes went (only from a worker loaded with `reportPlacements`). */
  onPlacement(l: (e: PlacementEvent) => void): () => void {
    this.placementListeners.add(l);
    return () => this.placementListeners.delete(l);
  }

  onCrashed(l: (message: string) => void): () => void {
    this.crashListeners.add(l);
    return () => this.crashListeners.delete(l);
  }

  /** Ends the worker (sessions and their memory go with it). */
  terminate(): void {
    this.onCrash('terminated');
  }
}
