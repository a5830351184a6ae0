import type { LabRunResult } from '../worker/protocol';
import type { LabResult } from './store';

/** A worker lab run's answer as the store keeps it: typed arrays over the transferred buffers, the user's wait. */
export function toLabResult(
  ids: Int32Array,
  r: Extract<LabRunResult, { superseded: false }>,
  ms: number,
): LabResult {
  return {
    ids,
    recon: new Float32Array(r.image),
    embedding: new Float32Array(r.embedding),
    teacherEmbedding: r.teacherEmbedding ? new Float32Array(r.teacherEmbedding) : undefined,
    ms,
    worker: { decodeMs: r.decodeMs, embedMs: r.embedMs, teacherMs: r.teacherMs, totalMs: r.totalMs },
  };
}
