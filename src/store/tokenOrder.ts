/**
 * Token order panel of the token lab (issue 12, item 2): per image, a prefix length k and a fill code; the prefix
 * of the lab's current ids decoded and scored (`labRun`, slot `<id>/prefix`), and a sweep of TokLIP embeddings
 * at sampleKs(h·w) prefix lengths (slot `<id>/sweep`, one run at a time so that an edit never waits behind more
 * than one of them). Each new prefix or sweep supersedes the previous one in the worker; answers of superseded
 * runs are dropped here too. Runs only while the panel is open.
 *
 * Its own zustand store, next to the app's: the panel's state is the lab's business only, and a second slice in
 * store.ts would make every lab edit re-render the panel's consumers and vice versa.
 */
import { create } from 'zustand';
import { defaultFillCode, prefixFill, sampleKs } from '../lib/tokenOrder';
import { sameIds } from '../lib/tokenEdit';
import type { LabRunResult } from '../worker/protocol';
import { client } from './actions';
import { toLabResult } from './labResult';
import { useStore, type LabResult } from './store';

/** Prefix lengths the similarity chart is computed at (each is one decode + TokLIP + teacher run). */
export const SWEEP_POINTS = 17;

export interface SweepPoint {
  k: number;
  embedding: Float32Array;
  teacherEmbedding?: Float32Array;
}

export interface OrderState {
  open: boolean;
  /** prefix length, 0…h·w */
  k: number;
  /** fill code chosen by the user; null: the most common code of the ids (resolved per ids) */
  fill: number | null;
  /** raster position under the pointer / keyboard focus, shared by the id strip and the lab grid */
  hover: number | null;
  /** the prefix shown, with what it was computed from */
  prefix?: LabResult & { k: number; fill: number };
  prefixPending: boolean;
  /** similarity vs k: the ids and fill it belongs to, the ks, and the points computed so far (in k order) */
  sweep?: { source: Int32Array; fill: number; ks: number[]; points: SweepPoint[]; ms?: number };
  sweepRunning: boolean;
  error?: string;
  /** for the panel's live region: start and end of long work, not every step */
  message: string;
}

interface OrderStore {
  orders: Record<string, OrderState>;
}

export const useOrderStore = create<OrderStore>()(() => ({ orders: {} }));

const get = () => useOrderStore.getState();
let seq = 0;
/** newest prefix run per image: an older answer arriving late is not shown */
const prefixSeq = new Map<string, number>();
/** sweep generation per image: a sweep loop stops as soon as a newer one started */
const sweepGen = new Map<string, number>();

function patch(id: string, f: (o: OrderState) => Partial<OrderState> | null): void {
  useOrderStore.setState((s) => {
    const o = s.orders[id];
    const p = o ? f(o) : null;
    if (!o || !p) return s;
    return { orders: { ...s.orders, [id]: { ...o, ...p } } };
  });
}

/** The ids the panel reads: the lab's current (edited) ids. */
function sourceIds(id: string): Int32Array | undefined {
  return useStore.getState().labs[id]?.history.present;
}

function resolvedFill(o: OrderState, ids: Int32Array): number {
  return o.fill ?? defaultFillCode(ids);
}

/** The fill code in use for an image's panel (null: no lab). */
export function orderFill(id: string): number | null {
  const o = get().orders[id];
  const ids = sourceIds(id);
  return o && ids ? resolvedFill(o, ids) : null;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function request(slot: string, s: number, ids: Int32Array): Promise<LabRunResult> {
  return client.request<'labRun'>({ kind: 'labRun', slot, seq: s, ids: ids.buffer as ArrayBuffer }, [
    ids.buffer,
  ]);
}

async function runPrefix(id: string): Promise<void> {
  const o = get().orders[id];
  const src = sourceIds(id);
  if (!o?.open || !src) return;
  const k = Math.min(o.k, src.length);
  const fill = resolvedFill(o, src);
  const ids = prefixFill(src, k, fill);
  const mine = ++seq;
  prefixSeq.set(id, mine);
  patch(id, () => ({ prefixPending: true, error: undefined }));
  const t0 = performance.now();
  try {
    const r = await request(`${id}/prefix`, mine, ids.slice());
    if (r.superseded || prefixSeq.get(id) !== mine) return;
    patch(id, () => ({
      prefixPending: false,
      prefix: { k, fill, ...toLabResult(ids, r, performance.now() - t0) },
    }));
  } catch (e) {
    if (prefixSeq.get(id) === mine) patch(id, () => ({ prefixPending: false, error: errorText(e) }));
  }
}

async function runSweep(id: string): Promise<void> {
  const o = get().orders[id];
  const src = sourceIds(id);
  if (!o?.open || !src) return;
  const gen = (sweepGen.get(id) ?? 0) + 1;
  sweepGen.set(id, gen);
  const fill = resolvedFill(o, src);
  const ks = sampleKs(src.length, SWEEP_POINTS);
  const source = src;
  patch(id, () => ({
    sweep: { source, fill, ks, points: [] },
    sweepRunning: true,
    message: `Computing similarity at ${ks.length} prefix lengths…`,
  }));
  const t0 = performance.now();
  for (const k of ks) {
    if (sweepGen.get(id) !== gen) return;
    let r: LabRunResult;
    try {
      r = await request(`${id}/sweep`, ++seq, prefixFill(source, k, fill));
    } catch (e) {
      if (sweepGen.get(id) === gen)
        patch(id, () => ({ sweepRunning: false, error: errorText(e), message: '' }));
      return;
    }
    if (r.superseded || sweepGen.get(id) !== gen) return;
    const point: SweepPoint = {
      k,
      embedding: new Float32Array(r.embedding),
      teacherEmbedding: r.teacherEmbedding ? new Float32Array(r.teacherEmbedding) : undefined,
    };
    patch(id, (cur) =>
      cur.sweep ? { sweep: { ...cur.sweep, points: [...cur.sweep.points, point] } } : null,
    );
  }
  const ms = performance.now() - t0;
  patch(id, (cur) => ({
    sweepRunning: false,
    sweep: cur.sweep ? { ...cur.sweep, ms } : cur.sweep,
    message: `Similarity computed at ${ks.length} prefix lengths in ${(ms / 1000).toFixed(1)} s.`,
  }));
}

/** Recomputes what the panel shows for the lab's current ids and the chosen fill. */
function refresh(id: string, what: { prefix: boolean; sweep: boolean }): void {
  if (what.prefix) void runPrefix(id);
  if (what.sweep) void runSweep(id);
}

/** Opens the token order panel of an image whose lab is open; k starts at the whole grid. */
export function openOrder(id: string): void {
  const src = sourceIds(id);
  if (!src) return;
  const existing = get().orders[id];
  useOrderStore.setState((s) => ({
    orders: {
      ...s.orders,
      [id]: existing
        ? { ...existing, open: true }
        : {
            open: true,
            k: src.length,
            fill: null,
            hover: null,
            prefixPending: false,
            sweepRunning: false,
            message: '',
          },
    },
  }));
  // reopening keeps what was computed when it still matches the ids and the fill
  refresh(id, { prefix: !samePrefixInputs(id), sweep: !sameSweepInputs(id) });
}

export function closeOrder(id: string): void {
  sweepGen.set(id, (sweepGen.get(id) ?? 0) + 1); // stops a running sweep after its current run
  patch(id, () => ({ open: false, sweepRunning: false, prefixPending: false }));
}

function samePrefixInputs(id: string): boolean {
  const o = get().orders[id];
  const src = sourceIds(id);
  if (!o?.prefix || !src) return false;
  const fill = resolvedFill(o, src);
  return o.prefix.k === o.k && o.prefix.fill === fill && sameIds(o.prefix.ids, prefixFill(src, o.k, fill));
}

function sameSweepInputs(id: string): boolean {
  const o = get().orders[id];
  const src = sourceIds(id);
  if (!o?.sweep || !src) return false;
  return o.sweep.fill === resolvedFill(o, src) && sameIds(o.sweep.source, src);
}

export function setOrderK(id: string, k: number): void {
  const src = sourceIds(id);
  if (!src || !Number.isInteger(k)) return;
  const clamped = Math.max(0, Math.min(src.length, k));
  if (get().orders[id]?.k === clamped) return;
  patch(id, () => ({ k: clamped }));
  refresh(id, { prefix: true, sweep: false });
}

/** null: back to the most common code. */
export function setOrderFill(id: string, fill: number | null): void {
  const size = useStore.getState().model.manifest?.codebook.size ?? 0;
  if (fill !== null && (!Number.isInteger(fill) || fill < 0 || fill >= size)) {
    patch(id, () => ({ error: `fill code ${fill} is outside the codebook (0…${size - 1})` }));
    return;
  }
  patch(id, () => ({ fill, error: undefined }));
  refresh(id, { prefix: !samePrefixInputs(id), sweep: !sameSweepInputs(id) });
}

export function setOrderHover(id: string, i: number | null): void {
  const o = get().orders[id];
  if (!o?.open || o.hover === i) return;
  patch(id, () => ({ hover: i }));
}

/**
 * Follows the lab: an edit (or undo/redo) changes the ids the panel reads, so an open panel recomputes; a lab
 * that is dropped (image removed or re-tokenized, model replaced) takes its panel with it.
 */
useStore.subscribe((s, prev) => {
  if (s.labs === prev.labs) return;
  const orders = get().orders;
  const gone = Object.keys(orders).filter((id) => !s.labs[id]);
  if (gone.length) {
    for (const id of gone) sweepGen.set(id, (sweepGen.get(id) ?? 0) + 1);
    useOrderStore.setState((st) => {
      const next = { ...st.orders };
      for (const id of gone) delete next[id];
      return { orders: next };
    });
  }
  for (const [id, o] of Object.entries(get().orders)) {
    const lab = s.labs[id];
    if (lab && !lab.open && o.open) {
      closeOrder(id); // the lab was closed: no work for a panel nobody sees
      continue;
    }
    if (!lab || !o.open || lab.history.present === prev.labs[id]?.history.present) continue;
    if (lab.history.present.length < o.k) patch(id, () => ({ k: lab.history.present.length }));
    refresh(id, { prefix: !samePrefixInputs(id), sweep: !sameSweepInputs(id) });
  }
});
