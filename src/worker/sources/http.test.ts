import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ManifestFile } from '../../lib/manifest';
import { HttpSource } from './http';

const PAGE = 'https://app.example';
const HOST = 'https://models.example.net';
const TABLE: ManifestFile = {
  role: 'text_embedding',
  path: 'text_embedding.bin',
  bytes: 4 * 16,
  sha256: '0'.repeat(64),
} as ManifestFile;
const SPEC = { rows: 16, dim: 1, dtype: 'fp32' as const, row_bytes: 4 };

/** A Response as a cross-origin fetch hands it over: type 'cors', only safelisted headers readable. */
function corsResponse(body: BodyInit | null, init: ResponseInit): Response {
  const res = new Response(body, init);
  Object.defineProperty(res, 'type', { value: 'cors' });
  return res;
}

function stubFetch(answer: (url: string, init?: RequestInit) => Promise<Response>) {
  const calls: string[] = [];
  vi.stubGlobal('fetch', (url: string, init?: RequestInit) => {
    calls.push(url);
    return answer(url, init);
  });
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

async function failure(p: Promise<unknown>): Promise<{ message: string; file?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { message: string; file?: string };
  }
  throw new Error('expected a failure');
}

describe('HttpSource on another origin', () => {
  it('refuses an origin outside the allow-list before any request, saying how to allow it', async () => {
    const calls = stubFetch(() => Promise.reject(new Error('must not fetch')));
    const src = new HttpSource(`${HOST}/tiny/`, PAGE, ['https://huggingface.co']);
    const e = await failure(src.readManifest());
    expect(calls).toEqual([]);
    expect(e.message).toContain(`${HOST} is not in this build's allow-list`);
    expect(e.message).toContain(`TOKLIP_MODEL_ORIGINS="https://huggingface.co ${HOST}"`);
  });

  it('a rejected fetch names CORS, the origin and the file', async () => {
    stubFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const src = new HttpSource(`${HOST}/tiny/`, PAGE, [HOST]);
    const e = await failure(src.readManifest());
    expect(e.message).toContain(
      `could not read manifest.json: the server at ${HOST} does not allow cross-origin requests (CORS) for manifest.json`,
    );
    expect(e.file).toBe('manifest.json');
    const f = await failure(src.readFile({ ...TABLE, path: 'vq_encoder.onnx' }, () => undefined));
    expect(f.message).toContain(`does not allow cross-origin requests (CORS) for vq_encoder.onnx`);
    expect(f.file).toBe('vq_encoder.onnx');
  });

  it('on its own origin a rejected fetch keeps the browser message', async () => {
    stubFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const e = await failure(new HttpSource(`${PAGE}/models/x/`, PAGE, []).readManifest());
    expect(e.message).toBe('could not read manifest.json: Failed to fetch');
  });

  it('an HTML page instead of manifest.json and a 404 are told apart', async () => {
    stubFetch(() =>
      Promise.resolve(corsResponse('<!doctype html>', { headers: { 'Content-Type': 'text/html' } })),
    );
    const src = new HttpSource(`${HOST}/tiny/`, PAGE, [HOST]);
    expect((await failure(src.readManifest())).message).toBe(
      `could not read manifest.json: the server answered with an HTML page, not the file: no such model folder at ${HOST}/tiny/`,
    );
    stubFetch(() => Promise.resolve(corsResponse('not found', { status: 404 })));
    expect((await failure(src.readManifest())).message).toBe(
      `could not read manifest.json: HTTP 404 (no manifest.json at ${HOST}/tiny/)`,
    );
  });

  it('rows without a readable Content-Range: a 206 of the right length is accepted', async () => {
    const calls = stubFetch((_url, init) => {
      const m = /bytes=(\d+)-(\d+)/.exec(new Headers(init?.headers).get('Range') ?? '')!;
      const n = Number(m[2]) - Number(m[1]) + 1;
      const body = new Float32Array(n / 4).map((_, i) => Number(m[1]) / 4 + i);
      return Promise.resolve(corsResponse(body, { status: 206 }));
    });
    const rows = new HttpSource(`${HOST}/tiny/`, PAGE, [HOST]).rows(TABLE, SPEC);
    expect(Array.from(await rows.gather([3, 5]))).toEqual([3, 5]);
    expect(calls.every((u) => u === `${HOST}/tiny/text_embedding.bin`)).toBe(true);
  });

  it('rows without a readable Content-Range: a 206 of the wrong length is refused', async () => {
    stubFetch(() => Promise.resolve(corsResponse(new Uint8Array(12), { status: 206 })));
    const rows = new HttpSource(`${HOST}/tiny/`, PAGE, [HOST]).rows(TABLE, SPEC);
    const e = await failure(rows.gather([3]));
    expect(e.message).toBe('text_embedding.bin: asked for bytes 12-15 (4 bytes), the server sent 12');
  });

  it('a host that ignores Range is named as the cause', async () => {
    stubFetch(() => Promise.resolve(corsResponse(new Uint8Array(64), { status: 200 })));
    const rows = new HttpSource(`${HOST}/tiny/`, PAGE, [HOST]).rows(TABLE, SPEC);
    const e = await failure(rows.gather([1]));
    expect(e.message).toContain(
      'the server answered a Range request for text_embedding.bin with the whole file (HTTP 200)',
    );
    expect(e.message).toContain('supports HTTP Range requests');
  });
});
