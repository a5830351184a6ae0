/**
 * A model folder on this computer, picked with the directory picker, a folder input or a drop. Files are read with
 * `File.slice`: whole files in chunks (for progress), token-table rows one range at a time, so a table read by
 * rows is never in memory as a whole. Nothing is put in Cache Storage: the files already are on this computer.
 */
import { RowReader, type TableSpec } from '../../lib/embeddingTable';
import { folderPath } from '../../lib/localFolder';
import type { ManifestFile } from '../../lib/manifest';
import { sha256Hex } from '../../lib/sha256';
import { WorkerError } from '../errors';
import { manifestUnreadable } from './errors';
import type { ModelSource } from './types';

/** Bytes read per File.slice when a whole file is read (progress is reported after each). */
const CHUNK_BYTES = 8 * 2 ** 20;

/** One file of a folder picked on this computer; `path` is relative to the folder ('/'-separated, no folder name). */
export interface DiskFile {
  path: string;
  file: File;
}

/** A model folder on this computer (directory picker, folder input or drop); Files are structured-cloned. */
export interface DiskSourceSpec {
  kind: 'disk';
  /** the folder's name, for messages and the UI */
  name: string;
  files: DiskFile[];
}

export class DiskSource implements ModelSource {
  readonly cacheable = false;
  readonly key: string;
  manifestSha256?: string;
  private readonly files = new Map<string, File>();

  constructor(
    readonly name: string,
    files: readonly DiskFile[],
  ) {
    this.key = `disk://${encodeURIComponent(name) || 'folder'}/`;
    for (const { path, file } of files) this.files.set(folderPath(path), file);
  }

  private file(f: ManifestFile): File {
    const file = this.files.get(folderPath(f.path));
    if (!file) {
      throw new WorkerError(
        'download',
        `${f.path} is listed in manifest.json but is not in the folder “${this.name}”`,
        f.path,
      );
    }
    // Checked before reading: a wrong-sized file (say a 2 GB file in place of a shard) is refused without reading it.
    if (file.size !== f.bytes) {
      throw new WorkerError(
        'integrity',
        `${f.path} has ${file.size} bytes but the manifest says ${f.bytes}: the model folder is inconsistent`,
        f.path,
      );
    }
    return file;
  }

  async readManifest(): Promise<unknown> {
    const file = this.files.get('manifest.json');
    if (!file) {
      const nested = [...this.files.keys()].find((p) => p.endsWith('/manifest.json'));
      throw new WorkerError(
        'manifest',
        `the folder “${this.name}” has no manifest.json at its top level` +
          (nested
            ? ` (there is one in ${nested.slice(0, -'/manifest.json'.length)}: pick that folder)`
            : '') +
          ': pick the model folder itself, the one that holds manifest.json',
        'manifest.json',
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      throw manifestUnreadable((e as Error).message);
    }
    this.manifestSha256 = await sha256Hex(bytes);
    try {
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw manifestUnreadable((e as Error).message);
    }
  }

  async readFile(f: ManifestFile, onBytes: (loaded: number) => void): Promise<Uint8Array> {
    const file = this.file(f);
    const out = new Uint8Array(file.size);
    try {
      for (let off = 0; off < file.size; off += CHUNK_BYTES) {
        const end = Math.min(file.size, off + CHUNK_BYTES);
        out.set(new Uint8Array(await file.slice(off, end).arrayBuffer()), off);
        onBytes(end);
      }
    } catch (e) {
      // e.g. NotReadableError: the file was changed or removed after it was picked
      throw new WorkerError('download', `could not read ${f.path}: ${(e as Error).message}`, f.path);
    }
    return out;
  }

  /** The File itself: onnxruntime reads an external-data shard from it when the session is made. */
  blob(f: ManifestFile): Blob {
    return this.file(f);
  }

  rows(f: ManifestFile, spec: TableSpec): RowReader {
    const file = this.file(f);
    return new RowReader(spec, async (start, count) => {
      const first = start * spec.row_bytes;
      const end = (start + count) * spec.row_bytes;
      try {
        return new Uint8Array(await file.slice(first, end).arrayBuffer());
      } catch (e) {
        throw new WorkerError(
          'download',
          `could not read rows of ${f.path}: ${(e as Error).message}`,
          f.path,
        );
      }
    });
  }
}
