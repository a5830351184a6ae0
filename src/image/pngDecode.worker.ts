/**
 * Decodes PNGs off the main thread: fast-png on a 12-megapixel PNG takes a second or more, which would freeze the
 * page. One job per message; the pixels come back transferred.
 */
import { pngForModel } from '../lib/pngPixels';

export interface PngDecodeRequest {
  id: number;
  bytes: ArrayBuffer;
  orientation: number | undefined;
}
export type PngDecodeResponse =
  { id: number; ok: true; px: ReturnType<typeof pngForModel> } | { id: number; ok: false; message: string };

self.onmessage = (e: MessageEvent<PngDecodeRequest>) => {
  const { id, bytes, orientation } = e.data;
  let reply: PngDecodeResponse;
  try {
    reply = { id, ok: true, px: pngForModel(new Uint8Array(bytes), orientation) };
  } catch (err) {
    reply = { id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  const transfer = reply.ok ? [reply.px.rgba.buffer] : [];
  (self as unknown as Worker).postMessage(reply, transfer);
};
