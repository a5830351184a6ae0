import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { validateManifest } from '../lib/manifest';
import { sampleManifest } from '../lib/testutil';
import type { CodePatchesRequest, CodePatchesResult, LabRunRequest, LabRunResult } from '../worker/protocol';

// The lab's actions talk to the worker through `client`; here a fake whose answers the test releases by hand,
// in any order, to check which answers the store keeps.
interface Call {
  body: Omit<LabRunRequest, 'requestId'>;
  resolve: (r: LabRunResult) => void;
}
interface PatchCall {
  body: Omit<CodePatchesRequest, 'requestId'>;
  resolve: (r: CodePatchesResult) => void;
}
const calls: Call[] = [];
const patchCalls: PatchCall[] = [];
vi.mock('./actions', () => ({
  client: {
    request: (body: Omit<LabRunRequest, 'requestId'> | Omit<CodePatchesRequest, 'requestId'>) =>
      new Promise((resolve) => {
        if (body.kind === 'labRun') calls.push({ body, resolve });
        else patchCalls.push({ body, resolve });
      }),
  },
}));

const { useStore } = await import('./store');
const lab = await import('./lab');

const manifest = validateManifest(sampleManifest()); // 16×16 grid, 1024 codes
const H = 16;
const W = 16;

/** What a worker would answer: an image and embeddings that depend on the ids, so a result names its input. */
function answer(call: Call, superseded = false): void {
  const ids = new Int32Array(call.body.ids);
  const { slot, seq } = call.body;
  if (superseded) return call.resolve({ slot, seq, superseded: true });
  const sum = ids.reduce((a, b) => a + b, 0);
  call.resolve({
    slot,
    seq,
    superseded: false,
    image: new Float32Array(3 * 4 * 4).fill(sum % 7).buffer,
    size: 4,
    embedding: Float32Array.of(sum, 1).buffer,
    teacherEmbedding: Float32Array.of(1, sum).buffer,
    dim: 2,
    decodeMs: 1,
    embedMs: 1,
    teacherMs: 1,
    totalMs: 3,
  });
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const state = () => useStore.getState().labs.img!;
const key = (k: string, mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }> = {}) => ({
  key: k,
  shiftKey: false,
  ctrlKey: false,
  metaKey: false,
  ...mods,
});

afterEach(async () => {
  // answer whatever a test left pending, so no run stays "in flight" into the next test
  for (const c of calls) answer(c, true);
  await flush();
});

beforeEach(() => {
  calls.length = 0;
  patchCalls.length = 0;
  const ids = Int32Array.from({ length: H * W }, (_, i) => i % 3); // codes 0, 1, 2
  useStore.setState({
    model: { id: 'm', status: 'ready', files: {}, manifest },
    images: [
      {
        id: 'img',
        name: 'a.png',
        bytes: 1,
        url: null,
        status: 'done',
        timings: {},
        grid: { h: H, w: W },
        ids,
      },
      {
        id: 'other',
        name: 'b.png',
        bytes: 1,
        url: null,
        status: 'done',
        timings: {},
        grid: { h: H, w: W },
        ids: new Int32Array(H * W).fill(900),
      },
    ],
    labs: {},
  });
});

describe('token lab store', () => {
  it('opening runs the unedited ids on their own slot; the picker starts on the most used code', async () => {
    lab.openLab('img');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body.slot).toBe('img/base');
    expect(Array.from(new Int32Array(calls[0]!.body.ids))).toEqual(
      Array.from(useStore.getState().images[0]!.ids!),
    );
    expect(state().code).toBe(0); // 86× code 0, 85× codes 1 and 2
    expect(state().copySource).toBe('other');
    answer(calls[0]!);
    await flush();
    expect(state().base?.embedding[0]).toBe(255); // sum of i % 3 over 256 cells
    expect(lab.labCurrent(state())).toBe(state().base);
  });

  it('only the newest edit is kept: an older answer arriving late is ignored', async () => {
    lab.openLab('img');
    answer(calls[0]!);
    await flush();
    lab.labPointerDown('img', 0, {});
    lab.labDragTo('img', 1 * W + 1); // 2×2 rectangle
    expect(state().selection.cells).toEqual([0, 1, W, W + 1]);
    lab.labPickCode('img', 7);
    lab.labSetCode('img');
    lab.labFill('img'); // second edit before the first is answered
    expect(calls).toHaveLength(3);
    const [first, second] = [calls[1]!, calls[2]!];
    expect(first.body.slot).toBe('img/edit');
    expect(second.body.slot).toBe('img/edit');
    expect(second.body.seq).toBeGreaterThan(first.body.seq);
    expect(Array.from(new Int32Array(first.body.ids)).slice(0, 2)).toEqual([7, 7]);
    expect(state().pendingSeq).toBe(second.body.seq);
    expect(lab.labCurrent(state())).toBeUndefined();

    answer(first); // not superseded by the worker (it had already run), but no longer wanted
    await flush();
    expect(state().result).toBeUndefined();
    answer(second);
    await flush();
    expect(state().pendingSeq).toBeNull();
    expect(lab.labCurrent(state())?.ids).toBe(state().history.present);
    expect(state().message).toMatch(/^re-decoded in \d+ ms$/);
  });

  it('a run the worker dropped as superseded changes nothing', async () => {
    lab.openLab('img');
    lab.labPointerDown('img', 5, {});
    lab.labSetCode('img');
    answer(calls[1]!, true);
    await flush();
    expect(state().result).toBeUndefined();
    expect(state().pendingSeq).toBe(calls[1]!.body.seq);
  });

  it('undo and redo restore the exact ids and re-run them', async () => {
    lab.openLab('img');
    const original = Array.from(state().original);
    lab.labPointerDown('img', 3, {});
    lab.labPickCode('img', 1000);
    lab.labSetCode('img');
    expect(state().history.present[3]).toBe(1000);
    lab.labUndo('img');
    expect(Array.from(state().history.present)).toEqual(original);
    expect(Array.from(new Int32Array(calls.at(-1)!.body.ids))).toEqual(original);
    lab.labRedo('img');
    expect(state().history.present[3]).toBe(1000);
    expect(calls).toHaveLength(4); // base, edit, undo, redo
  });

  it('copy takes the other image’s tokens at an offset; an edit that changes nothing is not a step', () => {
    lab.openLab('img');
    lab.labPointerDown('img', 0, {});
    lab.labSetCopyOffset('img', { row: 0, col: 0 });
    lab.labCopy('img');
    expect(state().history.present[0]).toBe(900);
    const steps = state().history.past.length;
    lab.labCopy('img'); // same again: nothing changes
    expect(state().history.past.length).toBe(steps);
    expect(state().message).toBe('copy: no token changed');
    lab.labPickCode('img', 5000); // outside the codebook: ignored
    expect(state().code).not.toBe(5000);
  });

  it('operations without a selection explain themselves instead of editing', () => {
    lab.openLab('img');
    lab.labFill('img');
    expect(state().error).toMatch(/select some tokens first/);
    expect(state().history.past).toHaveLength(0);
  });

  it('keyboard: arrows move, Shift+arrows extend, Space toggles, Enter sets, Ctrl+Z / Ctrl+Shift+Z', () => {
    lab.openLab('img');
    expect(lab.labKeyDown('img', key('ArrowRight'), 'grid')).toBe(true);
    expect(state().selection.cursor).toBe(1);
    lab.labKeyDown('img', key(' '), 'grid');
    lab.labKeyDown('img', key('ArrowDown', { shiftKey: true }), 'grid');
    expect(state().selection.cells).toEqual([1, W + 1]);
    lab.labPickCode('img', 9);
    lab.labKeyDown('img', key('Enter'), 'grid');
    expect(state().history.present[1]).toBe(9);
    expect(state().history.present[W + 1]).toBe(9);
    // undo works from anywhere in the lab, single-letter keys only in the grid
    expect(lab.labKeyDown('img', key('z', { ctrlKey: true }), 'lab')).toBe(true);
    expect(state().history.present[1]).toBe(1);
    expect(lab.labKeyDown('img', key('Z', { ctrlKey: true, shiftKey: true }), 'lab')).toBe(true);
    expect(state().history.present[1]).toBe(9);
    expect(lab.labKeyDown('img', key('f'), 'lab')).toBe(false);
    expect(lab.labKeyDown('img', key('Escape'), 'grid')).toBe(true);
    expect(state().selection.cells).toEqual([]);
    expect(lab.labKeyDown('img', key('q'), 'grid')).toBe(false);
  });

  it('the lab is dropped when its image is re-tokenized or removed', () => {
    lab.openLab('img');
    lab.openLab('other');
    const s = useStore.getState();
    useStore.setState({
      images: [{ ...s.images[0]!, ids: s.images[0]!.ids!.slice() }, s.images[1]!],
    });
    expect(useStore.getState().labs.img).toBeUndefined();
    expect(useStore.getState().labs.other).toBeDefined();
    useStore.setState({ images: [] });
    expect(useStore.getState().labs).toEqual({});
  });

  it('patch previews wait until no lab run is pending, then come one decoder run at a time', async () => {
    lab.openLab('img'); // base run in flight
    const codes = Array.from({ length: 30 }, (_, i) => i);
    lab.requestCodePatches(codes);
    expect(patchCalls).toHaveLength(0);
    answer(calls[0]!);
    await flush();
    expect(patchCalls).toHaveLength(1);
    expect(patchCalls[0]!.body.codes).toEqual(codes.slice(0, 25)); // 5×5 squares of 3×3 on 16×16
    lab.requestCodePatches(codes); // asked again: nothing is asked twice
    expect(patchCalls).toHaveLength(1);
    const px = (n: number) => new Uint8ClampedArray(n * 2 * 2 * 4).map((_, i) => i % 256);
    patchCalls[0]!.resolve({ codes: codes.slice(0, 25), patches: px(25).buffer, width: 2, height: 2 });
    await flush();
    const got = useStore.getState().codePatches;
    expect([got.width, got.height]).toEqual([2, 2]);
    expect(Array.from(got.byCode[1]!)).toEqual(Array.from(px(25).slice(16, 32)));
    expect(patchCalls).toHaveLength(2);
    expect(patchCalls[1]!.body.codes).toEqual(codes.slice(25));
    patchCalls[1]!.resolve({ codes: codes.slice(25), patches: px(5).buffer, width: 2, height: 2 });
    await flush();
    expect(Object.keys(useStore.getState().codePatches.byCode)).toHaveLength(30);
  });
});
