/** Derived per-image results (pure): scores against the prompts and the JSON export. */
import type { Manifest } from '../lib/manifest';
import { dot, matchProbability, ranking, softmax } from '../lib/similarity';
import { idsToRows } from '../lib/tokens';
import type { ImageItem } from '../store/store';

export interface PromptScores {
  prompts: string[];
  cosines: number[];
  /** SigLIP's own reading: sigmoid(logit_scale·cos + logit_bias) per prompt, independent of the others */
  probabilities: number[];
  /** CLIP's reading: softmax(logit_scale·cos) over the current prompts (sums to 1 across them) */
  softmax: number[];
  ranking: number[];
  teacherCosines: number[] | null;
  teacherProbabilities: number[] | null;
}

/** softmax(logit_scale·cos) over the prompts: temperature 1/logit_scale, the model's own scale from the manifest. */
export function promptSoftmax(cosines: readonly number[], logitScale: number): number[] {
  return softmax(cosines, 1 / logitScale);
}

/** Scores of one image against the prompts; null until the image and every prompt are embedded. */
export function scoreImage(
  image: ImageItem,
  prompts: string[],
  textEmbeddings: Record<string, Float32Array>,
  manifest: Manifest,
): PromptScores | null {
  if (!image.embedding || prompts.length === 0) return null;
  const texts = prompts.map((p) => textEmbeddings[p]);
  if (texts.some((t) => !t)) return null;
  const emb = image.embedding;
  const cosines = texts.map((t) => dot(emb, t!));
  const prob = (c: number) => matchProbability(c, manifest.logit_scale, manifest.logit_bias);
  const teacherCosines = image.teacherEmbedding ? texts.map((t) => dot(image.teacherEmbedding!, t!)) : null;
  return {
    prompts,
    cosines,
    probabilities: cosines.map(prob),
    softmax: promptSoftmax(cosines, manifest.logit_scale),
    ranking: ranking(cosines),
    teacherCosines,
    teacherProbabilities: teacherCosines ? teacherCosines.map(prob) : null,
  };
}

export function exportImage(
  image: ImageItem,
  manifest: Manifest | undefined,
  provider: string | null,
  scores: PromptScores | null,
) {
  return {
    app: 'toklip-studio',
    model_id: manifest?.id,
    provider,
    file: image.name,
    width: image.width,
    height: image.height,
    grid: image.grid,
    ids: image.ids && image.grid ? idsToRows(image.ids, image.grid.h, image.grid.w) : null,
    recon_psnr_db: image.psnr ?? null,
    recon_ssim: image.ssim ?? null,
    prompts: scores?.prompts ?? null,
    cosines: scores?.cosines ?? null,
    probabilities: scores?.probabilities ?? null,
    softmax_over_prompts: scores?.softmax ?? null,
    ranking: scores?.ranking ?? null,
    teacher_cosines: scores?.teacherCosines ?? null,
    embedding: image.embedding ? Array.from(image.embedding) : null,
    timings_ms: image.timings,
  };
}

export function downloadJson(filename: string, data: unknown): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
