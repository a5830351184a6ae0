/**
 * Scores of the token lab: per prompt, the TokLIP cosine of the edited ids next to that of the unedited ids,
 * and the teacher's cosine on the pixels decoded from each. Both baselines are runs of the lab itself on the
 * unedited ids, so a Δ is the edit's effect alone (the teacher's baseline is the reconstruction, not the input
 * photo, which would mix in the reconstruction's own loss).
 */
import { dot } from './similarity';

export interface LabEmbeddings {
  embedding: Float32Array;
  /** teacher image embedding of the pixels decoded from the ids (absent: the model has no teacher) */
  teacherEmbedding?: Float32Array;
}

export interface LabScoreRow {
  prompt: string;
  cos: number;
  baseCos: number;
  delta: number;
  teacherCos: number | null;
  teacherBaseCos: number | null;
  teacherDelta: number | null;
}

/** null until every prompt is embedded. */
export function labScores(
  prompts: readonly string[],
  textEmbeddings: Readonly<Record<string, Float32Array>>,
  base: LabEmbeddings,
  current: LabEmbeddings,
): LabScoreRow[] | null {
  const texts = prompts.map((p) => textEmbeddings[p]);
  if (texts.some((t) => !t)) return null;
  return prompts.map((prompt, i) => {
    const t = texts[i]!;
    const cos = dot(current.embedding, t);
    const baseCos = dot(base.embedding, t);
    const teacherCos = current.teacherEmbedding ? dot(current.teacherEmbedding, t) : null;
    const teacherBaseCos = base.teacherEmbedding ? dot(base.teacherEmbedding, t) : null;
    return {
      prompt,
      cos,
      baseCos,
      delta: cos - baseCos,
      teacherCos,
      teacherBaseCos,
      teacherDelta: teacherCos !== null && teacherBaseCos !== null ? teacherCos - teacherBaseCos : null,
    };
  });
}

export interface DeltaText {
  /** ↑ / ↓, or = when the change rounds to zero at the digits shown */
  arrow: '↑' | '↓' | '=';
  /** e.g. "+0.012" */
  text: string;
  /** for screen readers, e.g. "up 0.012" */
  label: string;
}

/** A change as arrow + signed number (colour is never the only carrier of its direction). */
export function deltaText(d: number, digits = 3): DeltaText {
  const rounded = Number(d.toFixed(digits));
  const abs = Math.abs(rounded).toFixed(digits);
  if (rounded === 0) return { arrow: '=', text: `±${abs}`, label: 'unchanged' };
  return rounded > 0
    ? { arrow: '↑', text: `+${abs}`, label: `up ${abs}` }
    : { arrow: '↓', text: `−${abs}`, label: `down ${abs}` };
}
