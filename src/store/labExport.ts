/**
 * Files the token lab exports (issue 12, item 6), built from the store's state with the pure serialisers of
 * src/lib/labExport.ts. Returns bytes and a name; the component hands them to the download helper.
 */
import {
  encodeNpy,
  exportName,
  idsJson,
  imageResultsJson,
  pngOfChw,
  sessionResultsJson,
  type ImageResultsInput,
  type ModelInfo,
  type NpyDtype,
} from '../lib/labExport';
import { sha256Hex } from '../lib/sha256';
import { activePrompts } from './actions';
import { labCurrent } from './lab';
import { useStore, type ImageItem } from './store';

export interface ExportFile {
  name: string;
  bytes: Uint8Array | string;
  type: string;
}

const get = useStore.getState;

/** sha256 of manifest.json per model folder, read once (the browser serves it from its cache). */
const manifestSha = new Map<string, Promise<string | null>>();

function manifestSha256(baseUrl: string): Promise<string | null> {
  let p = manifestSha.get(baseUrl);
  if (!p) {
    p = fetch(new URL('manifest.json', baseUrl))
      .then(async (r) => (r.ok ? sha256Hex(await r.arrayBuffer()) : null))
      .catch(() => null);
    manifestSha.set(baseUrl, p);
  }
  return p;
}

async function modelInfo(): Promise<ModelInfo> {
  const { manifest, baseUrl, manifestSha256: known } = get().model;
  if (!manifest) throw new Error('no model is loaded');
  return {
    id: manifest.id,
    display_name: manifest.display_name,
    manifest_sha256: known ?? (baseUrl ? await manifestSha256(baseUrl) : null),
    embed_dim: manifest.embed_dim,
    codebook_size: manifest.codebook.size,
    logit_scale: manifest.logit_scale,
    logit_bias: manifest.logit_bias,
  };
}

function resultsInput(im: ImageItem): ImageResultsInput {
  const lab = get().labs[im.id];
  const current = lab ? labCurrent(lab) : undefined;
  return {
    name: im.name,
    width: im.width,
    height: im.height,
    grid: im.grid,
    ids: im.ids,
    psnr: im.psnr,
    ssim: im.ssim,
    embedding: im.embedding,
    teacherEmbedding: im.teacherEmbedding,
    lab: lab
      ? {
          editedIds: lab.history.present,
          edits: lab.history.past.length,
          embedding: current?.embedding,
          teacherEmbedding: current?.teacherEmbedding,
        }
      : undefined,
  };
}

function meta() {
  return { provider: get().provider.active, created: new Date().toISOString() };
}

function imageOf(id: string): ImageItem {
  const im = get().images.find((x) => x.id === id);
  if (!im) throw new Error('the image is gone');
  return im;
}

/** The lab's edited ids (the image's own when it has no lab) as JSON or .npy [h, w]. */
export function exportIds(id: string, format: 'json' | NpyDtype): ExportFile {
  const im = imageOf(id);
  const lab = get().labs[id];
  const ids = lab?.history.present ?? im.ids;
  const grid = lab?.grid ?? im.grid;
  if (!ids || !grid) throw new Error(`${im.name} has no tokens yet`);
  const edited = lab ? lab.history.past.length > 0 : false;
  const stem = edited ? '.edited-ids' : '.ids';
  if (format === 'json')
    return {
      name: exportName(im.name, `${stem}.json`),
      bytes: idsJson(
        ids,
        grid,
        get().model.manifest?.id ?? '',
        `${im.name}${edited ? ' (edited in the token lab)' : ''}`,
      ),
      type: 'application/json',
    };
  return {
    name: exportName(im.name, `${stem}.${format}.npy`),
    bytes: encodeNpy(ids, [grid.h, grid.w], format),
    type: 'application/octet-stream',
  };
}

/** The picture decoded from the lab's edited ids (what the lab shows), as PNG at model resolution. */
export function exportPicture(id: string): ExportFile {
  const im = imageOf(id);
  const lab = get().labs[id];
  const current = lab ? labCurrent(lab) : undefined;
  const S = im.size;
  if (!current || !S) throw new Error('the re-decoded picture is not ready yet');
  return {
    name: exportName(im.name, '.decoded.png'),
    bytes: pngOfChw(current.recon, S, S),
    type: 'image/png',
  };
}

export async function exportImageResults(id: string): Promise<ExportFile> {
  const im = imageOf(id);
  const prompts = activePrompts();
  return {
    name: exportName(im.name, '.results.json'),
    bytes: imageResultsJson(resultsInput(im), prompts, get().text.embeddings, await modelInfo(), meta()),
    type: 'application/json',
  };
}

export async function exportSessionResults(): Promise<ExportFile> {
  const prompts = activePrompts();
  const images = get().images.map(resultsInput);
  return {
    name: `toklip-session-${new Date().toISOString().replace(/[:.]/g, '-')}.results.json`,
    bytes: sessionResultsJson(images, prompts, get().text.embeddings, await modelInfo(), meta()),
    type: 'application/json',
  };
}
