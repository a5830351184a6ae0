/**
 * The official models' token-embedding table (docs/CONTRACT.md, "Large models"): rows of `row_bytes`,
 * row `id` at byte `id * row_bytes`, in one of three layouts. Decodes the rows of a [B, L] id array into
 * the float32 [B, L, dim] `token_embeds` input of the text encoder. Pure: runs in Node and in the worker;
 * where the bytes come from (the whole file, or HTTP Range requests) is the caller's business.
 */

export type TableDtype = 'fp32' | 'fp16' | 'int8';
export const TABLE_DTYPES: readonly TableDtype[] = ['fp32', 'fp16', 'int8'];

export interface TableSpec {
  rows: number;
  dim: number;
  dtype: TableDtype;
  row_bytes: number;
}

export function tableRowBytes(dtype: TableDtype, dim: number): number {
  return dtype === 'fp32' ? 4 * dim : dtype === 'fp16' ? 2 * dim : 4 + dim;
}

/** IEEE 754 binary16 bits → number (subnormals, ±inf and NaN included). */
export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes one row (`row_bytes` bytes) into out[offset .. offset + dim). */
export function decodeRow(row: Uint8Array, spec: TableSpec, out: Float32Array, offset: number): void {
  const { dim, dtype } = spec;
  if (row.byteLength !== spec.row_bytes) {
    throw new RangeError(`a ${dtype} table row has ${spec.row_bytes} bytes, got ${row.byteLength}`);
  }
  const dv = new DataView(row.buffer, row.byteOffset, row.byteLength);
  if (dtype === 'fp32') {
    for (let i = 0; i < dim; i++) out[offset + i] = dv.getFloat32(4 * i, true);
  } else if (dtype === 'fp16') {
    for (let i = 0; i < dim; i++) out[offset + i] = float16ToFloat32(dv.getUint16(2 * i, true));
  } else {
    // q * scale is exact in float64 (8 × 24 significant bits), so storing it rounds once to float32: the
    // same value as Python's float32 product.
    const scale = dv.getFloat32(0, true);
    for (let i = 0; i < dim; i++) out[offset + i] = dv.getInt8(4 + i) * scale;
  }
}

/** Throws naming the first id outside [0, rows). */
export function checkIds(ids: ArrayLike<number>, rows: number): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= rows) {
      throw new RangeError(`token id ${id} at position ${i} is outside the embedding table (${rows} rows)`);
    }
  }
}

/**
 * ids (any shape, row-major) → float32 [...shape, dim]. `row(id)` returns that row's bytes; it is called
 * once per distinct id.
 */
export function gatherRows(
  ids: ArrayLike<number>,
  spec: TableSpec,
  row: (id: number) => Uint8Array,
): Float32Array {
  checkIds(ids, spec.rows);
  const out = new Float32Array(ids.length * spec.dim);
  const first = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const seen = first.get(id);
    if (seen !== undefined) {
      out.copyWithin(i * spec.dim, seen * spec.dim, (seen + 1) * spec.dim);
    } else {
      decodeRow(row(id), spec, out, i * spec.dim);
      first.set(id, i);
    }
  }
  return out;
}

/** gatherRows from the whole table in memory. */
export function gatherFromTable(table: Uint8Array, ids: ArrayLike<number>, spec: TableSpec): Float32Array {
  if (table.byteLength < spec.rows * spec.row_bytes) {
    throw new RangeError(
      `the table has ${table.byteLength} bytes, ${spec.rows} rows of ${spec.row_bytes} need ${spec.rows * spec.row_bytes}`,
    );
  }
  return gatherRows(ids, spec, (id) => table.subarray(id * spec.row_bytes, (id + 1) * spec.row_bytes));
}

export interface RowRange {
  /** first row */
  start: number;
  /** number of rows */
  count: number;
}

/**
 * Ids (any order, repeats allowed) → contiguous row ranges to fetch. Ranges absorb gaps of up to `maxGap` unwanted rows
 * (one request for a few extra rows is cheaper than another round trip) and hold at most `maxRows` rows.
 */
export function rowRanges(ids: Iterable<number>, maxGap = 0, maxRows = 4096): RowRange[] {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const out: RowRange[] = [];
  for (const id of sorted) {
    const last = out[out.length - 1];
    if (last && id - (last.start + last.count) <= maxGap && id - last.start + 1 <= maxRows) {
      last.count = id - last.start + 1;
    } else {
      out.push({ start: id, count: 1 });
    }
  }
  return out;
}

/** Reads `count` rows from `start`; resolves with exactly count × row_bytes bytes. */
export type FetchRows = (start: number, count: number) => Promise<Uint8Array>;

/**
 * Rows read on demand (HTTP Range requests in the app) and kept in a bounded least-recently-used cache, so
 * a table of hundreds of MB never has to be downloaded for a handful of prompts.
 */
export class RowReader {
  private readonly cache = new Map<number, Uint8Array>();
  private readonly maxCachedRows: number;
  private readonly maxGap: number;
  private readonly concurrency: number;
  /** rows and requests so far (what the cache saved shows here) */
  rowsFetched = 0;
  requests = 0;

  constructor(
    readonly spec: TableSpec,
    private readonly fetchRows: FetchRows,
    opts: { cacheBytes?: number; maxGap?: number; concurrency?: number } = {},
  ) {
    this.maxCachedRows = Math.max(1, Math.floor((opts.cacheBytes ?? 32 * 2 ** 20) / spec.row_bytes));
    this.maxGap = opts.maxGap ?? 8;
    this.concurrency = opts.concurrency ?? 4;
  }

  get cachedRows(): number {
    return this.cache.size;
  }

  /** ids → float32 [...shape, dim], fetching the rows not in the cache. */
  async gather(ids: ArrayLike<number>): Promise<Float32Array> {
    checkIds(ids, this.spec.rows);
    const wanted = new Set<number>();
    for (let i = 0; i < ids.length; i++) wanted.add(ids[i]!);
    const have = new Map<number, Uint8Array>();
    const missing: number[] = [];
    for (const id of wanted) {
      const row = this.cache.get(id);
      if (row) {
        this.cache.delete(id); // re-insert: most recently used last
        this.cache.set(id, row);
        have.set(id, row);
      } else missing.push(id);
    }
    const ranges = rowRanges(missing, this.maxGap);
    const rb = this.spec.row_bytes;
    for (let i = 0; i < ranges.length; i += this.concurrency) {
      const batch = ranges.slice(i, i + this.concurrency);
      const bodies = await Promise.all(batch.map((r) => this.fetchRows(r.start, r.count)));
      batch.forEach((r, k) => {
        const body = bodies[k]!;
        if (body.byteLength !== r.count * rb) {
          throw new RangeError(
            `rows ${r.start}..${r.start + r.count - 1}: got ${body.byteLength} bytes, expected ${r.count * rb}`,
          );
        }
        this.requests++;
        this.rowsFetched += r.count;
        for (let id = r.start; id < r.start + r.count; id++) {
          if (!wanted.has(id)) continue;
          // a copy, so that the cache does not pin the whole response buffer
          const row = body.slice((id - r.start) * rb, (id - r.start + 1) * rb);
          have.set(id, row);
          this.cache.set(id, row);
        }
      });
    }
    while (this.cache.size > this.maxCachedRows) {
      const oldest = this.cache.keys().next().value as number;
      this.cache.delete(oldest);
    }
    return gatherRows(ids, this.spec, (id) => have.get(id)!);
  }
}
