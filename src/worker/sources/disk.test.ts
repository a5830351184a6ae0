import { describe, expect, it } from 'vitest';
import type { ManifestFile } from '../../lib/manifest';
import { sha256Hex } from '../../lib/sha256';
import { DiskSource } from './disk';

const entry = (path: string, bytes: number): ManifestFile => ({
  role: 'x',
  path,
  bytes,
  sha256: '0'.repeat(64),
});

const file = (bytes: Uint8Array<ArrayBuffer> | string, name = 'f') => new File([bytes], name);

async function message(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a failure');
}

describe('DiskSource', () => {
  it('reads and hashes manifest.json, and is never cached', async () => {
    const text = '{"schema_version": 1}';
    const src = new DiskSource('my model', [{ path: 'manifest.json', file: file(text) }]);
    expect(src.cacheable).toBe(false);
    expect(src.key).toBe('disk://my%20model/');
    expect(await src.readManifest()).toEqual({ schema_version: 1 });
    expect(src.manifestSha256).toBe(await sha256Hex(new TextEncoder().encode(text)));
  });

  it('says when manifest.json is missing, and where a nested one is', async () => {
    const none = new DiskSource('pics', [{ path: 'a.jpg', file: file('x') }]);
    expect(await message(none.readManifest())).toBe(
      'the folder “pics” has no manifest.json at its top level: pick the model folder itself, the one that holds manifest.json',
    );
    const nested = new DiskSource('outer', [{ path: 'toklip-s/manifest.json', file: file('{}') }]);
    expect(await message(nested.readManifest())).toContain('there is one in toklip-s: pick that folder');
  });

  it('reads a whole file in slices with progress, and names a missing or wrong-sized file', async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const src = new DiskSource('m', [{ path: 'sub/g.onnx', file: file(bytes) }]);
    const seen: number[] = [];
    expect(await src.readFile(entry('sub/./g.onnx', 1000), (n) => seen.push(n))).toEqual(bytes);
    expect(seen[seen.length - 1]).toBe(1000);
    expect(await message(() => src.readFile(entry('other.onnx', 5), () => undefined))).toBe(
      'other.onnx is listed in manifest.json but is not in the folder “m”',
    );
    expect(await message(() => src.readFile(entry('sub/g.onnx', 999), () => undefined))).toBe(
      'sub/g.onnx has 1000 bytes but the manifest says 999: the model folder is inconsistent',
    );
  });

  it('reads table rows by File.slice', async () => {
    const spec = { rows: 10, dim: 2, dtype: 'fp32' as const, row_bytes: 8 };
    const table = new Float32Array(20).map((_, i) => i * 0.5);
    const src = new DiskSource('m', [{ path: 't.bin', file: file(new Uint8Array(table.buffer)) }]);
    const rows = await src.rows(entry('t.bin', 80), spec).gather(Int32Array.from([7, 2]));
    expect(Array.from(rows)).toEqual([7, 7.5, 2, 2.5]); // row r holds r, r + 0.5;
  });
});
