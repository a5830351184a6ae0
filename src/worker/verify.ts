/** Integrity of model files: every byte the worker uses has the size and sha256 its manifest names. */
import type { ManifestFile } from '../lib/manifest';
import { sha256Hex } from '../lib/sha256';
import { WorkerError } from './errors';

/** Throws an `integrity` error naming the file when `bytes` are not the manifest's file. */
export async function verifyFile(f: ManifestFile, bytes: Uint8Array): Promise<void> {
  if (bytes.byteLength !== f.bytes) {
    throw new WorkerError(
      'integrity',
      `${f.path} has ${bytes.byteLength} bytes but the manifest says ${f.bytes}: the model folder is inconsistent`,
      f.path,
    );
  }
  const digest = await sha256Hex(bytes);
  if (digest !== f.sha256) {
    throw new WorkerError(
      'integrity',
      `${f.path} failed its integrity check: sha256 is ${digest}, the manifest says ${f.sha256}`,
      f.path,
    );
  }
}

/** True when `bytes` are the manifest's file (a cached copy is only used then). */
export async function matchesFile(f: ManifestFile, bytes: Uint8Array): Promise<boolean> {
  return bytes.byteLength === f.bytes && (await sha256Hex(bytes)) === f.sha256;
}
