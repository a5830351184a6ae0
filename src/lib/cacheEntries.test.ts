import { describe, expect, it } from 'vitest';
import {
  entryKey,
  folderOf,
  groupEntries,
  modelLabel,
  parseEntryKey,
  parseMeta,
  type CachedEntry,
  type ModelMeta,
} from './cacheEntries';
import { formatBytes } from './format';

const SHA = (c: string) => c.repeat(64);
const A = 'https://example.org/app/models/a/';
const B = 'https://example.org/app/models/b/';

function meta(sourceKey: string, lastUsed: number, files: [string, string, number][]): ModelMeta {
  return {
    sourceKey,
    id: sourceKey.split('/').at(-2)!,
    displayName: `Model ${sourceKey.split('/').at(-2)!.toUpperCase()}`,
    lastUsed,
    files: files.map(([path, sha256, bytes]) => ({ path, sha256, bytes })),
  };
}

describe('entry keys', () => {
  it('resolve the path against the folder and carry the digest; parse back', () => {
    const key = entryKey(A, 'onnx/enc.onnx', SHA('a'));
    expect(key).toBe(`${A}onnx/enc.onnx?sha256=${SHA('a')}`);
    expect(parseEntryKey(key)).toEqual({ fileUrl: `${A}onnx/enc.onnx`, sha256: SHA('a') });
    expect(parseEntryKey(`${A}x.bin`)).toEqual({ fileUrl: `${A}x.bin`, sha256: null });
    expect(folderOf(`${A}onnx/enc.onnx`)).toBe(`${A}onnx/`);
  });
});

describe('groupEntries', () => {
  it('groups by recorded folder (subfolders included), sums sizes, newest use first', () => {
    const metas = [
      meta(A, 1000, [
        ['enc.onnx', SHA('1'), 10],
        ['onnx/dec.onnx', SHA('2'), 20],
      ]),
      meta(B, 2000, [['enc.onnx', SHA('3'), 5]]),
    ];
    const entries: CachedEntry[] = [
      { url: entryKey(A, 'enc.onnx', SHA('1')), bytes: 10 },
      { url: entryKey(B, 'enc.onnx', SHA('3')), bytes: 5 },
      { url: entryKey(A, 'onnx/dec.onnx', SHA('2')), bytes: 20 },
    ];
    const g = groupEntries(entries, metas);
    expect(g.map((m) => m.sourceKey)).toEqual([B, A]);
    expect(g[1]).toMatchObject({
      id: 'a',
      displayName: 'Model A',
      lastUsed: 1000,
      files: 2,
      bytes: 30,
      staleFiles: 0,
    });
    expect(g[1]!.urls.sort()).toEqual([entries[0]!.url, entries[2]!.url].sort());
    expect(g[0]).toMatchObject({ files: 1, bytes: 5 });
  });

  it('counts entries of an older manifest as stale, and groups unrecorded entries by their own folder', () => {
    const metas = [meta(A, 1, [['enc.onnx', SHA('1'), 10]])];
    const entries: CachedEntry[] = [
      { url: entryKey(A, 'enc.onnx', SHA('1')), bytes: 10 },
      { url: entryKey(A, 'enc.onnx', SHA('9')), bytes: 11 }, // same path, other digest
      { url: entryKey(B, 'x/y.bin', SHA('4')), bytes: 7 }, // no record for B
    ];
    const g = groupEntries(entries, metas);
    expect(g).toHaveLength(2);
    expect(g[0]).toMatchObject({ sourceKey: A, files: 2, bytes: 21, staleFiles: 1 });
    expect(g[1]).toMatchObject({ sourceKey: `${B}x/`, files: 1, bytes: 7, staleFiles: 0 });
    expect(g[1]!.displayName).toBeUndefined();
    expect(modelLabel(g[1]!)).toBe('x');
    expect(modelLabel(g[0]!)).toBe('Model A');
  });

  it('puts a file in the longest recorded folder it is under', () => {
    const inner = `${A}inner/`;
    const metas = [meta(A, 1, []), meta(inner, 2, [['m.onnx', SHA('5'), 3]])];
    const g = groupEntries([{ url: entryKey(inner, 'm.onnx', SHA('5')), bytes: 3 }], metas);
    expect(g).toHaveLength(1);
    expect(g[0]).toMatchObject({ sourceKey: inner, files: 1, staleFiles: 0 });
  });

  it('leaves out recorded folders without entries', () => {
    expect(groupEntries([], [meta(A, 1, [])])).toEqual([]);
  });
});

describe('parseMeta', () => {
  it('accepts a record and rejects anything else', () => {
    const m = meta(A, 5, [['enc.onnx', SHA('1'), 10]]);
    expect(parseMeta(JSON.parse(JSON.stringify(m)))).toEqual(m);
    expect(parseMeta(null)).toBeNull();
    expect(parseMeta({ ...m, lastUsed: 'yesterday' })).toBeNull();
    expect(parseMeta({ ...m, files: [{ path: 'x' }, m.files[0]] })!.files).toEqual(m.files);
  });
});

describe('formatBytes', () => {
  it('uses binary units at their boundaries', () => {
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 2 + 512 * 1024)).toBe('5.5 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.00 GiB');
    expect(formatBytes(NaN)).toBe('–');
  });
});
