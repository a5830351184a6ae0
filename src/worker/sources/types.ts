/**
 * Where a model folder's bytes come from. The worker loads every model through this interface, so adding a source
 * (a URL, a folder on disk) is one module here plus one case in `openSource`.
 */
import type { RowReader, TableSpec } from '../../lib/embeddingTable';
import type { ManifestFile } from '../../lib/manifest';

export interface ModelSource {
  /**
   * An absolute URL naming the folder: file paths resolve against it, cache entries are keyed by it and the UI
   * shows it. For sources without a URL it is a made-up one (e.g. `disk://<folder name>/`).
   */
  readonly key: string;
  /** Whether verified files are worth keeping in Cache Storage (not for files already on this computer). */
  readonly cacheable: boolean;
  /** The parsed manifest.json (validated by the caller); throws a `manifest` WorkerError when unreadable. */
  readManifest(): Promise<unknown>;
  /**
   * All bytes of one file, unverified; `onBytes` reports progress. Throws a `download` WorkerError naming the
   * file and the cause.
   */
  readFile(f: ManifestFile, onBytes: (loaded: number) => void): Promise<Uint8Array>;
  /** Rows of a token-embedding table read on demand (HTTP Range, File.slice…). */
  rows(f: ManifestFile, spec: TableSpec): RowReader;
  /** sha256 of manifest.json's bytes once `readManifest` read them, where the source keeps them (disk). */
  readonly manifestSha256?: string;
  /**
   * A Blob onnxruntime can read the (already verified) file from when it makes a session, so the worker need not
   * keep the bytes until then (disk: the File itself). Absent: the worker keeps the bytes it read.
   */
  blob?(f: ManifestFile): Blob;
  /** The folder at `path` (`../<folder>/`) beside this one, where the source can reach it (HTTP). */
  sibling?(path: string): ModelSource;
}
