import { beforeEach, describe, expect, it, vi } from 'vitest';
import { validateManifest, type Manifest } from '../lib/manifest';
import { sampleManifest } from '../lib/testutil';
import { averageTemplates } from '../lib/zeroShot';
import type { EmbedTextRequest, EmbedTextResult } from '../worker/protocol';

// Label prompts go to the worker as embedText requests; here a fake whose answers the test releases by hand.
interface Call {
  prompts: string[];
  resolve: (r: EmbedTextResult) => void;
}
const calls: Call[] = [];
vi.mock('./actions', () => ({
  client: {
    request: (body: Omit<EmbedTextRequest, 'requestId'>) =>
      new Promise((resolve) => {
        if (body.kind !== 'embedText') throw new Error(`unexpected request ${body.kind}`);
        calls.push({ prompts: body.prompts, resolve });
      }),
  },
}));
vi.mock('../image/decode', () => ({ decodeImage: vi.fn() }));

const { useStore } = await import('./store');
const zs = await import('./zeroShot');

const DIM = 4;

/** A row per prompt that depends on the prompt's text (not unit length: the store must normalise). */
function row(prompt: string): number[] {
  let h = 7;
  for (const ch of prompt) h = (h * 31 + ch.charCodeAt(0)) % 1009;
  return [1 + (h % 5), (h % 7) - 3, (h % 11) / 2, 2];
}

function answer(call: Call): void {
  call.resolve({
    embeddings: Float32Array.from(call.prompts.flatMap(row)).buffer,
    dim: DIM,
    ids: new ArrayBuffer(0),
    timing: { runMs: 1, totalMs: 1, sessionMs: 0 },
  });
}

const flush = () => new Promise((r) => setTimeout(r, 0));

/** Answers every request as it comes until none is pending. */
async function drain(): Promise<number> {
  let n = 0;
  for (let i = 0; i < 1000; i++) {
    await flush();
    const c = calls.shift();
    if (!c) return n;
    answer(c);
    n++;
  }
  throw new Error('requests never stopped');
}

function useModel(extra: Partial<Manifest> = {}, id = 'm1'): Manifest {
  const m = { ...validateManifest({ ...sampleManifest(), embed_dim: DIM, id }), ...extra };
  useStore.setState({ model: { id, status: 'ready', manifest: m, files: {} } });
  return m;
}

const classes = Array.from({ length: 50 }, (_, i) => `class ${i}`);
const templates = ['a photo of a {}.', 'art of the {}.', 'a {} in a video game.'];
const labelset = {
  id: 'test',
  name: 'Test set',
  classes,
  templates: { simple: templates },
  source: { package: 'p', version: '1', license: 'MIT', url: '' },
  attribution: 'from p',
};

beforeEach(() => {
  calls.length = 0;
  zs.useZeroShot.setState({
    open: false,
    source: 'concepts',
    userText: '',
    templateSet: 'simple',
    active: undefined,
    job: undefined,
    error: undefined,
    labelset: undefined,
  });
});

describe('zero-shot label embeddings', () => {
  it('the model’s concepts: one prompt (its caption) per concept, labels are the names', async () => {
    useModel({
      concepts: [
        { name: 'hat', prompt: 'a propeller hat', split: 'val' },
        { name: 'marmot', prompt: 'a marmot', split: 'val' },
      ],
    });
    zs.setOpen(true);
    await flush();
    expect(calls.map((c) => c.prompts)).toEqual([['a propeller hat', 'a marmot']]);
    await drain();
    const a = zs.useZeroShot.getState().active!;
    expect(a.labels).toEqual(['hat', 'marmot']);
    expect(Array.from(a.embeddings.subarray(0, DIM))).toEqual(
      Array.from(averageTemplates(Float32Array.from(row('a propeller hat')), DIM)),
    );
  });

  it('without manifest.concepts the default prompts stand in', async () => {
    const m = useModel({}, 'm-defaults');
    zs.setOpen(true);
    await drain();
    expect(zs.useZeroShot.getState().active!.labels).toEqual(m.default_prompts);
  });

  it('templates: whole classes per request, averaged per class, progress counted, then cached per model', async () => {
    useModel({}, 'm-templates');
    zs.useZeroShot.setState({ labelset, source: 'imagenet', open: true });
    const run = zs.computeLabels();
    await flush();
    // 64 prompts per request at most, whole classes only: 21 classes × 3 templates = 63, class-major
    expect(calls).toHaveLength(1);
    expect(calls[0]!.prompts).toHaveLength(63);
    expect(calls[0]!.prompts.slice(0, 4)).toEqual([
      'a photo of a class 0.',
      'art of the class 0.',
      'a class 0 in a video game.',
      'a photo of a class 1.',
    ]);
    expect(zs.useZeroShot.getState().job).toMatchObject({ done: 0, total: 150 });
    answer(calls.shift()!);
    await flush();
    expect(zs.useZeroShot.getState().job).toMatchObject({ done: 63, total: 150 });
    expect(calls[0]!.prompts[0]).toBe('a photo of a class 21.');
    answer(calls.shift()!);
    await flush();
    expect(calls[0]!.prompts).toHaveLength(150 - 126);
    answer(calls.shift()!);
    await run;
    const a = zs.useZeroShot.getState().active!;
    expect(a.labels).toEqual(classes);
    expect(zs.useZeroShot.getState().job).toBeUndefined();
    const want = averageTemplates(
      Float32Array.from(templates.flatMap((t) => row(t.replace('{}', 'class 49')))),
      DIM,
    );
    expect(Array.from(a.embeddings.subarray(49 * DIM))).toEqual(Array.from(want));

    // same model and label set: from the cache, no request
    zs.useZeroShot.setState({ active: undefined });
    await zs.computeLabels();
    expect(calls).toHaveLength(0);
    expect(zs.useZeroShot.getState().active!.embeddings).toBe(a.embeddings);

    // another model (other text-encoder hash): embedded again
    useModel({}, 'm-templates-2');
    await flush();
    expect(zs.useZeroShot.getState().active).toBeUndefined();
  });

  it('cancel stops sending the rest of a long label set', async () => {
    useModel({}, 'm-cancel');
    zs.useZeroShot.setState({
      labelset: { ...labelset, classes: [...classes, ...classes.map((c) => c + '!')] },
    });
    zs.useZeroShot.setState({ source: 'imagenet', open: true });
    const run = zs.computeLabels();
    await flush();
    expect(calls).toHaveLength(1);
    zs.cancelLabels();
    answer(calls.shift()!);
    await run;
    await flush();
    expect(calls).toHaveLength(0);
    expect(zs.useZeroShot.getState().active).toBeUndefined();
    expect(zs.useZeroShot.getState().job).toBeUndefined();
  });

  it('user labels: one request per edit burst, blank and repeated lines dropped', async () => {
    useModel({}, 'm-user');
    zs.useZeroShot.setState({ open: true, source: 'user' });
    vi.useFakeTimers();
    try {
      zs.setUserText('a cat\n');
      zs.setUserText('a cat\n\na dog\na cat');
      await vi.advanceTimersByTimeAsync(500);
    } finally {
      vi.useRealTimers();
    }
    await flush();
    expect(calls.map((c) => c.prompts)).toEqual([['a cat', 'a dog']]);
    await drain();
    expect(zs.useZeroShot.getState().active!.labels).toEqual(['a cat', 'a dog']);
  });
});
