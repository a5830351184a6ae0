/** Number formatting with units. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function formatDb(db: number): string {
  return Number.isFinite(db) ? `${db.toFixed(2)} dB` : '∞ dB';
}

export function formatPercent(p: number, digits = 1): string {
  return `${(p * 100).toFixed(digits)} %`;
}

/** A lab run's worker time per graph, and how much of the user's wait it was (the rest: queue and messages). */
export function formatLabTiming(
  t: { decodeMs: number; embedMs: number; teacherMs?: number; totalMs: number },
  waitedMs: number,
): string {
  const parts = [`decode ${formatMs(t.decodeMs)}`, `TokLIP ${formatMs(t.embedMs)}`];
  if (t.teacherMs !== undefined) parts.push(`teacher ${formatMs(t.teacherMs)}`);
  return `worker: ${parts.join(', ')} (${formatMs(t.totalMs)} of the ${formatMs(waitedMs)} waited)`;
}
