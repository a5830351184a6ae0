/**
 * Token lab actions: per-image editing state in the store, every edit recorded in the undo history and sent to
 * the worker (`labRun`) to be decoded, embedded and teacher-scored. Only the newest edit's answer is kept: older
 * runs are dropped by the worker (same slot, lower seq) and ignored here if one still arrives.
 */
import { codesPerRun } from '../lib/codePatches';
import {
  canRedo,
  canUndo,
  clearSelection,
  clickCell,
  copyCells,
  dragTo,
  emptySelection,
  fillMostCommon,
  moveCursor,
  newHistory,
  pushHistory,
  redo,
  sameIds,
  selectAll,
  setCells,
  shuffleCells,
  toggleCell,
  undo,
  type ClickModifiers,
} from '../lib/tokenEdit';
import { codeUsage } from '../lib/tokens';
import type { LabRunResult } from '../worker/protocol';
import { client } from './actions';
import { toLabResult } from './labResult';
import { setOrderHover } from './tokenOrder';
import { useStore, type LabResult, type LabState } from './store';

const get = useStore.getState;
const set = useStore.setState;

/** One counter for all slots: a seq is never reused, even when a lab is dropped and opened again. */
let labSeq = 0;
/** lab runs sent and not answered: patch previews wait for zero, so they never delay an edit's answer much */
let labRunsInFlight = 0;

/** patch previews: codes asked for and not sent yet, in the order asked */
const patchWanted: number[] = [];
/** codes sent (in flight or answered) for the model in use */
const patchSent = new Set<number>();
let patchBusy = false;

/** labRun through the worker, counted for the patch previews' scheduling. */
async function requestLabRun(slot: string, seq: number, ids: Int32Array): Promise<LabRunResult> {
  labRunsInFlight++;
  try {
    return await client.request<'labRun'>({ kind: 'labRun', slot, seq, ids: ids.buffer as ArrayBuffer }, [
      ids.buffer,
    ]);
  } finally {
    labRunsInFlight--;
    void pumpPatches();
  }
}

const editSlot = (id: string) => `${id}/edit`;
const baseSlot = (id: string) => `${id}/base`;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function patchLab(id: string, f: (lab: LabState) => Partial<LabState> | null): void {
  set((s) => {
    const lab = s.labs[id];
    const patch = lab ? f(lab) : null;
    if (!lab || !patch) return s;
    return { labs: { ...s.labs, [id]: { ...lab, ...patch } } };
  });
}

/**
 * A lab belongs to the ids it was opened on: when the image goes, is re-tokenized (another model or provider) or
 * the model is replaced, its edits and results no longer mean anything, so the lab is dropped. Patch previews
 * belong to the model.
 */
useStore.subscribe((s, prev) => {
  if (s.images === prev.images && s.model.manifest === prev.model.manifest) return;
  const modelChanged = s.model.manifest !== prev.model.manifest;
  if (modelChanged) {
    patchWanted.length = 0;
    patchSent.clear();
    set({ codePatches: { width: 0, height: 0, byCode: {} } });
  }
  const drop = Object.entries(s.labs)
    .filter(([id, lab]) => modelChanged || s.images.find((im) => im.id === id)?.ids !== lab.original)
    .map(([id]) => id);
  if (!drop.length) return;
  const labs = { ...s.labs };
  for (const id of drop) delete labs[id];
  set({ labs });
});

/** The result that matches the ids being edited (the baseline before any edit); undefined while none does. */
export function labCurrent(lab: LabState): LabResult | undefined {
  if (lab.result && sameIds(lab.result.ids, lab.history.present)) return lab.result;
  if (!lab.result && lab.base && sameIds(lab.base.ids, lab.history.present)) return lab.base;
  return undefined;
}

/** Opens the lab of an image (resuming earlier edits when the image's ids are unchanged). */
export function openLab(id: string): void {
  const im = get().images.find((x) => x.id === id);
  if (!im?.ids || !im.grid) return;
  const existing = get().labs[id];
  if (existing && existing.original === im.ids) {
    patchLab(id, () => ({ open: true }));
    return;
  }
  const lab: LabState = {
    open: true,
    grid: im.grid,
    original: im.ids,
    history: newHistory(im.ids),
    selection: emptySelection(),
    code: codeUsage(im.ids)[0]?.id ?? 0,
    query: '',
    copySource: get().images.find((x) => x.id !== id && x.ids)?.id ?? null,
    copyOffset: { row: 0, col: 0 },
    shuffleSeed: 1,
    pendingSeq: null,
    message: '',
  };
  set((s) => ({ labs: { ...s.labs, [id]: lab } }));
  void runBase(id);
}

export function closeLab(id: string): void {
  patchLab(id, () => ({ open: false }));
}

async function runBase(id: string): Promise<void> {
  const lab = get().labs[id];
  if (!lab) return;
  const seq = ++labSeq;
  const ids = lab.original.slice();
  const t0 = performance.now();
  try {
    const r = await requestLabRun(baseSlot(id), seq, ids);
    if (r.superseded || get().labs[id]?.original !== lab.original) return;
    const ms = performance.now() - t0;
    patchLab(id, () => ({
      base: toLabResult(lab.original, r, ms),
      message: `decoded in ${Math.round(ms)} ms`,
    }));
  } catch (e) {
    patchLab(id, (l) => (l.original === lab.original ? { error: errorText(e) } : null));
  }
}

/** Sends the ids being edited to the worker; a newer call for the same lab supersedes this one. */
async function runEdit(id: string): Promise<void> {
  const lab = get().labs[id];
  if (!lab) return;
  const present = lab.history.present;
  const seq = ++labSeq;
  patchLab(id, () => ({ pendingSeq: seq, error: undefined }));
  const ids = present.slice();
  const t0 = performance.now();
  try {
    const r = await requestLabRun(editSlot(id), seq, ids);
    if (r.superseded || get().labs[id]?.pendingSeq !== seq) return;
    const ms = performance.now() - t0;
    patchLab(id, () => ({
      result: toLabResult(present, r, ms),
      pendingSeq: null,
      message: `re-decoded in ${Math.round(ms)} ms`,
    }));
  } catch (e) {
    patchLab(id, (l) => (l.pendingSeq === seq ? { pendingSeq: null, error: errorText(e) } : null));
  }
}

/** Applies an edit to the ids being edited; an edit that changes nothing is said so, not recorded. */
function applyEdit(id: string, what: string, edit: (lab: LabState) => Int32Array): void {
  const lab = get().labs[id];
  if (!lab) return;
  let next: Int32Array;
  try {
    next = edit(lab);
  } catch (e) {
    patchLab(id, () => ({ error: `${what}: ${errorText(e)}` }));
    return;
  }
  const history = pushHistory(lab.history, next);
  if (history === lab.history) {
    patchLab(id, () => ({ message: `${what}: no token changed` }));
    return;
  }
  patchLab(id, () => ({ history, error: undefined }));
  void runEdit(id);
}

function needsSelection(lab: LabState): void {
  if (!lab.selection.cells.length) throw new Error('select some tokens first');
}

export function labSetCode(id: string): void {
  const size = get().model.manifest?.codebook.size ?? 0;
  applyEdit(id, `set to code ${get().labs[id]?.code}`, (lab) => {
    needsSelection(lab);
    return setCells(lab.history.present, lab.grid, lab.selection.cells, lab.code, size);
  });
}

export function labFill(id: string): void {
  applyEdit(id, 'fill with the most common code', (lab) => {
    needsSelection(lab);
    return fillMostCommon(lab.history.present, lab.grid, lab.selection.cells);
  });
}

export function labShuffle(id: string): void {
  const seed = get().labs[id]?.shuffleSeed ?? 1;
  applyEdit(id, 'shuffle', (lab) => {
    needsSelection(lab);
    return shuffleCells(lab.history.present, lab.grid, lab.selection.cells, seed);
  });
  // the next shuffle must differ even if this one changed nothing (e.g. it drew the identity)
  patchLab(id, (l) => ({ shuffleSeed: l.shuffleSeed + 1 }));
}

export function labCopy(id: string): void {
  applyEdit(id, 'copy', (lab) => {
    needsSelection(lab);
    const src = get().images.find((im) => im.id === lab.copySource);
    if (!src?.ids || !src.grid) throw new Error('choose another image with tokens to copy from');
    return copyCells(lab.history.present, lab.grid, src.ids, src.grid, lab.selection.cells, lab.copyOffset);
  });
}

export function labReset(id: string): void {
  applyEdit(id, 'reset', (lab) => lab.original.slice());
}

export function labUndo(id: string): void {
  const lab = get().labs[id];
  if (!lab || !canUndo(lab.history)) return;
  patchLab(id, () => ({ history: undo(lab.history) }));
  void runEdit(id);
}

export function labRedo(id: string): void {
  const lab = get().labs[id];
  if (!lab || !canRedo(lab.history)) return;
  patchLab(id, () => ({ history: redo(lab.history) }));
  void runEdit(id);
}

// ---- selection and picker ------------------------------------------------------------------------

export function labPointerDown(id: string, cell: number, mods: ClickModifiers): void {
  patchLab(id, (lab) => ({ selection: clickCell(lab.selection, lab.grid, cell, mods) }));
}

export function labDragTo(id: string, cell: number): void {
  patchLab(id, (lab) =>
    lab.selection.cursor === cell ? null : { selection: dragTo(lab.selection, lab.grid, cell) },
  );
}

export function labPickCode(id: string, code: number): void {
  const size = get().model.manifest?.codebook.size ?? 0;
  if (!Number.isInteger(code) || code < 0 || code >= size) return;
  patchLab(id, () => ({ code }));
}

/** Arrow keys in the picker: the next/previous code of the list shown. */
export function labPickStep(id: string, shown: readonly number[], delta: number): number | null {
  const lab = get().labs[id];
  if (!lab || !shown.length) return null;
  const at = shown.indexOf(lab.code);
  const next = shown[Math.max(0, Math.min(shown.length - 1, at < 0 ? 0 : at + delta))]!;
  labPickCode(id, next);
  return next;
}

export function labSetQuery(id: string, query: string): void {
  patchLab(id, () => ({ query }));
}

export function labSetCopySource(id: string, source: string | null): void {
  patchLab(id, () => ({ copySource: source }));
}

export function labSetCopyOffset(id: string, offset: { row: number; col: number }): void {
  if (!Number.isInteger(offset.row) || !Number.isInteger(offset.col)) return;
  patchLab(id, () => ({ copyOffset: offset }));
}

export interface KeyInput {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
}

/**
 * Keyboard of the lab. `grid`: the token grid has focus (selection keys and single-letter operations work);
 * `lab`: elsewhere in the lab, only undo/redo (text fields keep their own Ctrl+Z: the caller does not pass
 * those). Returns whether the key was used (the caller then prevents its default).
 */
export function labKeyDown(id: string, k: KeyInput, scope: 'grid' | 'lab'): boolean {
  const lab = get().labs[id];
  if (!lab) return false;
  const mod = k.ctrlKey || k.metaKey;
  const key = k.key.length === 1 ? k.key.toLowerCase() : k.key;
  if (mod && key === 'z') {
    if (k.shiftKey) labRedo(id);
    else labUndo(id);
    return true;
  }
  if (mod && key === 'y') {
    labRedo(id);
    return true;
  }
  if (scope !== 'grid') return false;
  const moves: Record<string, [number, number]> = {
    ArrowUp: [-1, 0],
    ArrowDown: [1, 0],
    ArrowLeft: [0, -1],
    ArrowRight: [0, 1],
  };
  const m = moves[key];
  if (m) {
    patchLab(id, (l) => ({ selection: moveCursor(l.selection, l.grid, m[0], m[1], k.shiftKey) }));
    // The token order panel (when open) marks the cursor's id, as it does for the pointer.
    const cursor = useStore.getState().labs[id]?.selection.cursor;
    if (cursor !== undefined) setOrderHover(id, cursor);
    return true;
  }
  if (mod && key === 'a') {
    patchLab(id, (l) => ({ selection: selectAll(l.selection, l.grid) }));
    return true;
  }
  if (mod) return false;
  switch (key) {
    case ' ':
      patchLab(id, (l) => ({ selection: toggleCell(l.selection, l.grid) }));
      return true;
    case 'Escape':
      if (!lab.selection.cells.length) return false;
      patchLab(id, (l) => ({ selection: clearSelection(l.selection) }));
      return true;
    case 'Enter':
      labSetCode(id);
      return true;
    case 'f':
      labFill(id);
      return true;
    case 's':
      labShuffle(id);
      return true;
    case 'c':
      labCopy(id);
      return true;
  }
  return false;
}

// ---- decoded-patch previews ------------------------------------------------------------------------

/**
 * Asks for decoded-patch previews of `codes` (those not had or asked for yet). They are fetched one decoder run at a
 * time, only while no lab run is pending, so previews fill in between edits instead of delaying them.
 */
export function requestCodePatches(codes: readonly number[]): void {
  const have = get().codePatches.byCode;
  for (const c of codes)
    if (!(c in have) && !patchSent.has(c) && !patchWanted.includes(c)) patchWanted.push(c);
  void pumpPatches();
}

async function pumpPatches(): Promise<void> {
  const manifest = get().model.manifest;
  if (patchBusy || labRunsInFlight > 0 || !manifest || !patchWanted.length) return;
  const batch = patchWanted.splice(0, codesPerRun(manifest.grid));
  for (const c of batch) patchSent.add(c);
  patchBusy = true;
  try {
    const r = await client.request<'codePatches'>({ kind: 'codePatches', codes: batch });
    if (get().model.manifest !== manifest) return;
    const all = new Uint8ClampedArray(r.patches);
    const n = r.width * r.height * 4;
    set((s) => {
      const byCode = { ...s.codePatches.byCode };
      r.codes.forEach((c, i) => (byCode[c] = all.slice(i * n, (i + 1) * n)));
      return { codePatches: { width: r.width, height: r.height, byCode } };
    });
  } catch {
    // Previews are optional: the colour swatches stay, and these codes may be asked for again later.
    for (const c of batch) patchSent.delete(c);
    return;
  } finally {
    patchBusy = false;
  }
  void pumpPatches();
}
