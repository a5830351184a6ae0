/** A model folder on a web server: the app's own `models/` or any URL. Files are fetched; table rows use HTTP Range. */
import { RowReader, type TableSpec } from '../../lib/embeddingTable';
import type { ManifestFile } from '../../lib/manifest';
import { WorkerError } from '../errors';
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

export class HttpSource implements ModelSource {
  readonly cacheable = true;

  /** @param key absolute URL of the folder, ending in '/' */
  constructor(readonly key: string) {}

  async readManifest(): Promise<unknown> {
    try {
      const res = await fetch(new URL('manifest.json', this.key).href, { cache: 'no-cache' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      if (isHtml(res, 'manifest.json')) throw new Error('no such model folder');
      return await res.json();
    } catch (e) {
      throw new WorkerError(
        'manifest',
        `could not read manifest.json: ${(e as Error).message}`,
        'manifest.json',
      );
    }
  }

  async readFile(f: ManifestFile, onBytes: (loaded: number) => void): Promise<Uint8Array> {
    let res: Response;
    try {
      res = await fetch(new URL(f.path, this.key).href, { cache: 'no-cache' });
    } catch (e) {
      throw new WorkerError('download', `could not download ${f.path}: ${(e as Error).message}`, f.path);
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
          `could not read rows of ${f.path}: ${(e as Error).message}`,
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
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('Content-Range') ?? '');
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
