/** A model folder on a web server: the app's own `models/` or any URL. Files are fetched; table rows use HTTP Range. */
import { MODEL_ORIGINS } from '../../config/modelOrigins';
import { RowReader, type TableSpec } from '../../lib/embeddingTable';
import type { ManifestFile } from '../../lib/manifest';
import { originRefusal } from '../../lib/modelOrigins';
import { WorkerError } from '../errors';
import { manifestUnreadable } from './errors';
import type { ModelSource } from './types';

async function readWithProgress(res: Response, onBytes: (loaded: number) => void): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let lastReport = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    const now = performance.now();
    if (now - lastReport > 50) {
      lastReport = now;
      onBytes(loaded);
    }
  }
  const out = new Uint8Array(loaded);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** A dev/preview server or a single-page host answers a missing file with the app's index.html. */
function isHtml(res: Response, path: string): boolean {
  return /^text\/html/i.test(res.headers.get('Content-Type') ?? '') && !/\.html?$/i.test(path);
}

/** The page's origin (the worker's is the same); none in unit tests without a location. */
function ownOrigin(): string {
  return typeof location === 'undefined' ? 'null' : location.origin;
}

/** A model folder on a web server (the app's own or any URL with CORS); `baseUrl` is absolute and ends in '/'. */
export interface HttpSourceSpec {
  kind: 'http';
  baseUrl: string;
}

export class HttpSource implements ModelSource {
  readonly cacheable = true;
  private readonly crossOrigin: boolean;

  /**
   * @param key absolute URL of the folder, ending in '/'
   * @param pageOrigin the app's origin, always allowed
   * @param allowedOrigins the other origins this build's CSP allows (TOKLIP_MODEL_ORIGINS)
   */
  constructor(
    readonly key: string,
    private readonly pageOrigin = ownOrigin(),
    private readonly allowedOrigins: readonly string[] = MODEL_ORIGINS,
  ) {
    this.crossOrigin = new URL(key).origin !== pageOrigin;
  }

  sibling(path: string): HttpSource {
    return new HttpSource(new URL(path, this.key).href, this.pageOrigin, this.allowedOrigins);
  }

  /**
   * Why a fetch of `path` threw. Cross-origin, fetch rejects with a bare TypeError both when the host does not
   * answer and when its answer lacks CORS headers (the page may not tell which): say both, CORS first, since
   * that is what a reachable static host most often lacks.
   */
  private fetchFailure(path: string, e: unknown): string {
    if (!this.crossOrigin) return (e as Error).message;
    const origin = new URL(this.key).origin;
    return (
      `the server at ${origin} does not allow cross-origin requests (CORS) for ${path}, or could not be reached ` +
      `(${(e as Error).message}); a model host must answer with Access-Control-Allow-Origin, and any redirect ` +
      `must stay within this build's allowed origins`
    );
  }

  async readManifest(): Promise<unknown> {
    // checked here, before the first request, rather than left to the CSP: a blocked fetch only says "failed"
    const refused = originRefusal(this.key, this.pageOrigin, this.allowedOrigins);
    if (refused) throw new WorkerError('download', refused);
    let res: Response;
    try {
      res = await fetch(new URL('manifest.json', this.key).href, { cache: 'no-cache' });
    } catch (e) {
      throw manifestUnreadable(this.fetchFailure('manifest.json', e));
    }
    try {
      if (!res.ok)
        throw new Error(
          `HTTP ${res.status}${res.status === 404 ? ` (no manifest.json at ${this.key})` : ''}`,
        );
      if (isHtml(res, 'manifest.json')) {
        throw new Error(
          this.crossOrigin
            ? `the server answered with an HTML page, not the file: no such model folder at ${this.key}`
            : 'no such model folder',
        );
      }
      return await res.json();
    } catch (e) {
      throw manifestUnreadable((e as Error).message);
    }
  }

  async readFile(f: ManifestFile, onBytes: (loaded: number) => void): Promise<Uint8Array> {
    let res: Response;
    try {
      res = await fetch(new URL(f.path, this.key).href, { cache: 'no-cache' });
    } catch (e) {
      throw new WorkerError(
        'download',
        `could not download ${f.path}: ${this.fetchFailure(f.path, e)}`,
        f.path,
      );
    }
    if (!res.ok)
      throw new WorkerError('download', `could not download ${f.path}: HTTP ${res.status}`, f.path);
    if (isHtml(res, f.path)) {
      throw new WorkerError(
        'download',
        `could not download ${f.path}: the file is missing from the model folder`,
        f.path,
      );
    }
    return readWithProgress(res, onBytes);
  }

  /**
   * Every answer must be a 206 whose Content-Range names exactly the requested bytes of a file of the manifest's
   * size: a host that ignores Range would otherwise send the whole table (hundreds of MB) for each prompt.
   */
  rows(f: ManifestFile, spec: TableSpec): RowReader {
    const url = new URL(f.path, this.key).href;
    return new RowReader(spec, async (start, count) => {
      const first = start * spec.row_bytes;
      const last = (start + count) * spec.row_bytes - 1;
      let res: Response;
      try {
        res = await fetch(url, { headers: { Range: `bytes=${first}-${last}` }, cache: 'no-store' });
      } catch (e) {
        throw new WorkerError(
          'download',
          `could not read rows of ${f.path}: ${this.fetchFailure(f.path, e)}`,
          f.path,
        );
      }
      if (res.status !== 206) {
        void res.body?.cancel().catch(() => undefined);
        throw new WorkerError(
          'download',
          res.ok
            ? `the server answered a Range request for ${f.path} with the whole file (HTTP ${res.status}): the token table is read by rows, so the model folder needs a host that supports HTTP Range requests`
            : `could not read rows of ${f.path}: HTTP ${res.status}`,
          f.path,
        );
      }
      const contentRange = res.headers.get('Content-Range');
      if (contentRange === null && res.type === 'cors') {
        // Content-Range is not a CORS-safelisted response header: many static hosts allow CORS without
        // exposing it (Access-Control-Expose-Headers). Then the 206 and the byte count are all there is to check.
        const bytes = new Uint8Array(await res.arrayBuffer());
        if (bytes.byteLength !== last - first + 1) {
          throw new WorkerError(
            'download',
            `${f.path}: asked for bytes ${first}-${last} (${last - first + 1} bytes), the server sent ${bytes.byteLength}`,
            f.path,
          );
        }
        return bytes;
      }
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange ?? '');
      if (!range || Number(range[1]) !== first || Number(range[2]) !== last) {
        throw new WorkerError(
          'download',
          `${f.path}: asked for bytes ${first}-${last}, the server sent Content-Range ${JSON.stringify(res.headers.get('Content-Range'))}`,
          f.path,
        );
      }
      if (range[3] !== '*' && Number(range[3]) !== f.bytes) {
        throw new WorkerError(
          'integrity',
          `${f.path} has ${range[3]} bytes on the server but the manifest says ${f.bytes}: the model folder is inconsistent`,
          f.path,
        );
      }
      return new Uint8Array(await res.arrayBuffer());
    });
  }
}
