/**
 * Token-embedding table decoding against Python. src/lib/__golden__/official-table.json is written by
 * `.venv/bin/python scripts/official_goldens.py`: one small table per layout, written by the exporter's
 * toklip.export_official.write_embedding_table (random rows plus an all-zero row, a row beyond fp16's range,
 * fp16 subnormals), a [2, 6] id array with repeats, and gather_table_rows's float32 output.
 */
import { describe, expect, it } from 'vitest';
import {
  float16ToFloat32,
  gatherFromTable,
  RowReader,
  rowRanges,
  tableRowBytes,
  type TableDtype,
  type TableSpec,
} from './embeddingTable';
import { b64ToBytes, b64ToFloat32LE, readGolden } from './testutil';

interface TableGolden {
  tables: (TableSpec & { bytes: number; table: string; ids: number[][]; expected_float32: string })[];
}

const golden = readGolden<TableGolden>('src/lib/__golden__/official-table.json');

/** Same bits: NaN and ±0 compare as bit patterns, the rest exactly. */
function expectSameFloat32(got: Float32Array, want: Float32Array, label: string): void {
  expect(got.length, label).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) expect(`${label}[${i}] = ${got[i]}`).toBe(`${label}[${i}] = ${want[i]}`);
  }
}

describe('embedding table rows against gather_table_rows', () => {
  it('covers the three layouts', () => {
    expect(golden.tables.map((t) => t.dtype).sort()).toEqual(['fp16', 'fp32', 'int8']);
  });

  for (const t of golden.tables) {
    it(`${t.dtype}: whole table`, () => {
      const bytes = b64ToBytes(t.table);
      expect(bytes.byteLength).toBe(t.bytes);
      expect(t.row_bytes).toBe(tableRowBytes(t.dtype as TableDtype, t.dim));
      const got = gatherFromTable(bytes, t.ids.flat(), t);
      expectSameFloat32(got, b64ToFloat32LE(t.expected_float32), t.dtype);
    });

    it(`${t.dtype}: rows fetched on demand, cached, same values`, async () => {
      const bytes = b64ToBytes(t.table);
      const calls: [number, number][] = [];
      const reader = new RowReader(
        t,
        async (start, count) => {
          calls.push([start, count]);
          return bytes.slice(start * t.row_bytes, (start + count) * t.row_bytes);
        },
        { maxGap: 0 },
      );
      const ids = t.ids.flat();
      const want = b64ToFloat32LE(t.expected_float32);
      expectSameFloat32(await reader.gather(ids), want, `${t.dtype} (range)`);
      const distinct = new Set(ids).size;
      expect(reader.rowsFetched).toBe(distinct);
      expect(calls.every(([, n]) => n >= 1)).toBe(true);
      // a second pass is served from the cache
      expectSameFloat32(await reader.gather(ids), want, `${t.dtype} (cached)`);
      expect(reader.rowsFetched).toBe(distinct);
      expect(reader.cachedRows).toBe(distinct);
    });
  }
});

describe('RowReader', () => {
  const spec: TableSpec = { rows: 100, dim: 2, dtype: 'fp32', row_bytes: 8 };
  const table = new Uint8Array(100 * 8);
  new Float32Array(table.buffer).forEach((_, i, a) => (a[i] = i));
  const fetchRows = async (start: number, count: number) =>
    table.slice(start * spec.row_bytes, (start + count) * spec.row_bytes);

  it('keeps at most cacheBytes of rows, dropping the least recently used', async () => {
    const r = new RowReader(spec, fetchRows, { cacheBytes: 3 * 8, maxGap: 0 });
    await r.gather([1, 2, 3]);
    await r.gather([1]); // 1 is now the most recent
    await r.gather([50]); // evicts 2
    expect(r.cachedRows).toBe(3);
    const before = r.rowsFetched;
    expect(Array.from(await r.gather([1, 3]))).toEqual([2, 3, 6, 7]);
    expect(r.rowsFetched).toBe(before);
    await r.gather([2]);
    expect(r.rowsFetched).toBe(before + 1);
  });

  it('refuses ids outside the table and short bodies', async () => {
    const r = new RowReader(spec, fetchRows);
    await expect(r.gather([3, 100])).rejects.toThrow(
      'token id 100 at position 1 is outside the embedding table (100 rows)',
    );
    const short = new RowReader(spec, async () => new Uint8Array(4));
    await expect(short.gather([7])).rejects.toThrow('rows 7..7: got 4 bytes, expected 8');
  });
});

describe('rowRanges', () => {
  it('merges neighbours and small gaps, bounded in rows', () => {
    expect(rowRanges([5, 1, 2, 3, 9, 2])).toEqual([
      { start: 1, count: 3 },
      { start: 5, count: 1 },
      { start: 9, count: 1 },
    ]);
    expect(rowRanges([1, 3, 9], 1)).toEqual([
      { start: 1, count: 3 },
      { start: 9, count: 1 },
    ]);
    expect(rowRanges([0, 1, 2, 3, 4], 0, 2)).toEqual([
      { start: 0, count: 2 },
      { start: 2, count: 2 },
      { start: 4, count: 1 },
    ]);
    expect(rowRanges([])).toEqual([]);
  });
});

describe('float16ToFloat32', () => {
  it.each([
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('%i → %d', (h, want) => expect(float16ToFloat32(h)).toBe(want));
  it('NaN and -0', () => {
    expect(float16ToFloat32(0x7e00)).toBeNaN();
    expect(Object.is(float16ToFloat32(0x8000), -0)).toBe(true);
  });
});
