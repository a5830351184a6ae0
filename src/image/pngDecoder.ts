/** The main thread's side of pngDecode.worker.ts: one module worker, created on first use, a promise per file. */
import type { ModedPixels } from '../lib/pngPixels';
import type { PngDecodeRequest, PngDecodeResponse } from './pngDecode.worker';

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (px: ModedPixels) => void; reject: (e: Error) => void }>();

function ensure(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./pngDecode.worker.ts', import.meta.url), {
    type: 'module',
    name: 'png-decode',
  });
  w.onmessage = (e: MessageEvent<PngDecodeResponse>) => {
    const p = pending.get(e.data.id);
    if (!p) return;
    pending.delete(e.data.id);
    if (e.data.ok) p.resolve(e.data.px);
    else p.reject(new Error(e.data.message));
  };
  w.onerror = (e) => {
    // A crashed decoder fails what it held; the next file starts a fresh one.
    for (const p of pending.values()) p.reject(new Error(e.message || 'the PNG decoder stopped'));
    pending.clear();
    worker?.terminate();
    worker = null;
  };
  worker = w;
  return w;
}

/** Decodes a PNG (a copy of `bytes` is transferred) into Pillow's mode and values, EXIF orientation applied. */
export function decodePngOffThread(bytes: Uint8Array, orientation: number | undefined): Promise<ModedPixels> {
  const id = nextId++;
  const copy = bytes.slice().buffer;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    const msg: PngDecodeRequest = { id, bytes: copy, orientation };
    ensure().postMessage(msg, [copy]);
  });
}
