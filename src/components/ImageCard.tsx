import { memo, useMemo, useState } from 'react';
import { formatBytes, formatDb, formatMs, formatPercent } from '../lib/format';
import { chwToRgba } from '../lib/preprocess';
import { providerName } from '../lib/provider';
import { idsToRows } from '../lib/tokens';
import { removeImage, retryImage } from '../store/actions';
import { closeLab, openLab } from '../store/lab';
import { useStore, type ImageItem, type Stage } from '../store/store';
import { heatmapRgba } from './colour';
import { HelpTip } from './HelpTip';
import { Histogram } from './Histogram';
import { PixelCanvas } from './PixelCanvas';
import { downloadJson, exportImage, type PromptScores } from './results';
import { TokenGrid } from './TokenGrid';
import { TokenLab } from './TokenLab';

const STATUS_TEXT: Record<ImageItem['status'], string> = {
  queued: 'queued',
  decoding: 'decoding the file…',
  tokenizing: 'tokenizing…',
  reconstructing: 'reconstructing from the tokens…',
  embedding: 'embedding the tokens…',
  done: 'done',
  error: 'failed',
  cancelled: 'cancelled',
};

const STAGES: Stage[] = [
  'decode image',
  'preprocess',
  'VQ encode',
  'VQ decode',
  'semantic encode',
  'teacher encode',
  'metrics',
  'total',
  'drop to panels',
];
const ERROR_SCALE = 0.5;

interface Props {
  image: ImageItem;
  scores: PromptScores | null;
}

function ImageCardImpl({ image, scores }: Props) {
  const manifest = useStore((s) => s.model.manifest);
  const colours = useStore((s) => s.model.codeColours);
  const codebook = useStore((s) => s.model.codebook);
  const provider = useStore((s) => s.provider.active);
  const labOpen = useStore((s) => s.labs[image.id]?.open ?? false);
  const [copied, setCopied] = useState('');

  const S = image.size ?? 0;
  const inputRgba = useMemo(
    () => (image.modelRgb ? chwToRgba(image.modelRgb, S, S) : null),
    [image.modelRgb, S],
  );
  const reconRgba = useMemo(() => (image.recon ? chwToRgba(image.recon, S, S) : null), [image.recon, S]);
  const heatRgba = useMemo(
    () => (image.errorMap ? heatmapRgba(image.errorMap, ERROR_SCALE) : null),
    [image.errorMap],
  );
  const idRows = useMemo(
    () => (image.ids && image.grid ? idsToRows(image.ids, image.grid.h, image.grid.w) : null),
    [image.ids, image.grid],
  );
  const busy = image.status !== 'done' && image.status !== 'error' && image.status !== 'cancelled';
  const best = scores?.ranking[0];
  const teacherBest = scores?.teacherCosines
    ? scores.teacherCosines.indexOf(Math.max(...scores.teacherCosines))
    : undefined;

  const copyIds = async () => {
    if (!idRows) return;
    try {
      await navigator.clipboard.writeText(JSON.stringify(idRows));
      setCopied('ids copied');
    } catch {
      setCopied('copy failed: the browser refused clipboard access');
    }
  };

  return (
    <article
      id={`card-${image.id}`}
      tabIndex={-1} // gallery search moves focus here
      className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:outline-none"
      aria-labelledby={`${image.id}-title`}
      aria-busy={busy}
      data-testid="image-card"
      data-name={image.name}
      data-status={image.status}
      data-ids={idRows ? JSON.stringify(idRows) : undefined}
      data-psnr={image.psnr !== undefined ? String(image.psnr) : undefined}
      data-ssim={image.ssim !== undefined ? String(image.ssim) : undefined}
      data-prompts={scores ? JSON.stringify(scores.prompts) : undefined}
      data-cosines={scores ? JSON.stringify(scores.cosines) : undefined}
      data-ranking={scores ? JSON.stringify(scores.ranking) : undefined}
      data-drop-ms={
        image.timings['drop to panels'] !== undefined ? image.timings['drop to panels'].toFixed(1) : undefined
      }
      data-teacher-cosines={scores?.teacherCosines ? JSON.stringify(scores.teacherCosines) : undefined}
      data-probabilities={scores ? JSON.stringify(scores.probabilities) : undefined}
      data-softmax={scores ? JSON.stringify(scores.softmax) : undefined}
      data-embedding={image.embedding ? JSON.stringify(Array.from(image.embedding)) : undefined}
    >
      <header className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h3 id={`${image.id}-title`} className="truncate font-semibold text-slate-900" title={image.name}>
          {image.name}
        </h3>
        <div className="flex items-center gap-2 text-xs text-slate-600">
          <span>
            {image.width && image.height ? `${image.width}×${image.height} px · ` : ''}
            {formatBytes(image.bytes)}
          </span>
          <span
            className={`rounded px-1.5 py-0.5 ${image.status === 'error' ? 'bg-red-100 text-red-800' : image.status === 'done' ? 'bg-emerald-100 text-emerald-800' : 'bg-amber-100 text-amber-900'}`}
          >
            {STATUS_TEXT[image.status]}
          </span>
          <button
            type="button"
            onClick={() => removeImage(image.id)}
            className="rounded px-1.5 py-0.5 text-slate-600 hover:bg-slate-100 focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:outline-none"
            aria-label={`Remove ${image.name}`}
          >
            ✕
          </button>
        </div>
      </header>

      {image.status === 'error' ? (
        <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800" data-testid="image-error">
          {image.name} could not be processed: {image.error}
        </p>
      ) : null}
      {image.status === 'cancelled' ? (
        <p className="flex items-center gap-2 text-sm text-slate-600" data-testid="image-cancelled">
          Cancelled before processing.
          <button type="button" className="btn text-xs" onClick={() => retryImage(image.id)}>
            Process it
          </button>
        </p>
      ) : null}
      {image.notes?.length ? (
        <ul className="mb-2 list-disc pl-5 text-xs text-slate-700" data-testid="image-notes">
          {image.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}

      {image.ids && image.grid && inputRgba ? (
        <div className="grid gap-4 lg:grid-cols-2">
          <section aria-label="Tokens">
            <h4 className="mb-1 text-sm font-medium text-slate-800">
              Tokens — {image.grid.h}×{image.grid.w} ids
            </h4>
            <TokenGrid
              name={image.name}
              ids={image.ids}
              h={image.grid.h}
              w={image.grid.w}
              imageRgba={inputRgba}
              size={S}
              colours={colours}
              codebook={codebook}
              dim={manifest?.codebook.dim ?? 0}
            />
            <div className="mt-2">
              <Histogram ids={image.ids} codebookSize={manifest?.codebook.size ?? 0} colours={colours} />
            </div>
            <div className="mt-2 flex flex-wrap gap-2 text-xs">
              <button type="button" className="btn" onClick={() => void copyIds()}>
                Copy ids (JSON)
              </button>
              <button
                type="button"
                className="btn"
                onClick={() =>
                  downloadJson(`${image.name}.toklip.json`, exportImage(image, manifest, provider, scores))
                }
              >
                Download results (JSON)
              </button>
              <button
                type="button"
                className="btn"
                aria-expanded={labOpen}
                aria-controls={`${image.id}-lab`}
                disabled={image.status !== 'done'}
                onClick={() => (labOpen ? closeLab(image.id) : openLab(image.id))}
              >
                {labOpen ? 'Close the token lab' : 'Edit tokens (token lab)'}
              </button>
              <span aria-live="polite" className="self-center text-slate-600">
                {copied}
              </span>
            </div>
          </section>

          <section aria-label="Reconstruction from the tokens">
            <h4 className="mb-1 text-sm font-medium text-slate-800">
              Reconstruction — decoded from the same ids
            </h4>
            <div className="grid grid-cols-3 gap-2">
              <figure>
                <PixelCanvas
                  rgba={inputRgba}
                  width={S}
                  height={S}
                  label={`${image.name}, input at ${S}×${S}`}
                  testId="model-input"
                />
                <figcaption className="mt-1 text-xs text-slate-600">input</figcaption>
              </figure>
              <figure>
                {reconRgba ? (
                  <PixelCanvas
                    rgba={reconRgba}
                    width={S}
                    height={S}
                    label={`Reconstruction of ${image.name} from its tokens`}
                    testId="recon"
                  />
                ) : (
                  <div className="aspect-square animate-pulse rounded bg-slate-100" />
                )}
                <figcaption className="mt-1 text-xs text-slate-600">from ids</figcaption>
              </figure>
              <figure>
                {heatRgba ? (
                  <PixelCanvas
                    rgba={heatRgba}
                    width={S}
                    height={S}
                    label={`Per-pixel reconstruction error of ${image.name}`}
                  />
                ) : (
                  <div className="aspect-square animate-pulse rounded bg-slate-100" />
                )}
                <figcaption className="mt-1 text-xs text-slate-600">|error|, 0 → {ERROR_SCALE}</figcaption>
              </figure>
            </div>
            {image.psnr !== undefined ? (
              <dl className="mt-2 grid grid-cols-2 gap-1 text-sm">
                <dt className="text-slate-600">PSNR</dt>
                <dd data-testid="psnr" className="font-mono">
                  {formatDb(image.psnr)}
                </dd>
                <dt className="text-slate-600">SSIM</dt>
                <dd data-testid="ssim" className="font-mono">
                  {image.ssim?.toFixed(4)}
                </dd>
              </dl>
            ) : null}

            <h4 className="mt-4 mb-1 text-sm font-medium text-slate-800">
              Similarity — embedded from the same ids
            </h4>
            {scores ? (
              <table className="w-full text-left text-xs" data-testid="prompt-scores">
                <caption className="sr-only">Similarity of {image.name} to each prompt</caption>
                <thead>
                  <tr className="text-slate-600">
                    <th scope="col" className="py-1 font-normal">
                      prompt
                    </th>
                    <th scope="col" className="py-1 text-right font-normal">
                      cosine
                    </th>
                    <th scope="col" className="py-1 pl-2 font-normal">
                      <HelpTip id={`${image.id}-help-sigmoid`} label="sigmoid (SigLIP)" testId="help-sigmoid">
                        SigLIP-style match probability for each prompt on its own: sigmoid(
                        {manifest?.logit_scale.toFixed(2)}·cos{' '}
                        {manifest && manifest.logit_bias < 0 ? '−' : '+'}{' '}
                        {Math.abs(manifest?.logit_bias ?? 0).toFixed(2)}). It says yes/no per pair, so the
                        column need not sum to 100 %. How high a match reads depends on how the bias was set:
                        a bias learned in SigLIP training carries its batch&apos;s many-negatives odds and
                        reads low; the model card says which this model has.
                      </HelpTip>
                    </th>
                    <th scope="col" className="py-1 pl-2 font-normal">
                      <HelpTip
                        id={`${image.id}-help-softmax`}
                        label="softmax (these prompts)"
                        testId="help-softmax"
                      >
                        CLIP-style share among the current prompts: softmax({manifest?.logit_scale.toFixed(2)}
                        ·cos), the temperature being the model’s logit scale. It sums to 100 % over the
                        prompts, so it says which prompt fits best, not whether any fits; adding or removing a
                        prompt changes it.
                      </HelpTip>
                    </th>
                    {scores.teacherCosines ? (
                      <th scope="col" className="py-1 text-right font-normal">
                        teacher cos
                      </th>
                    ) : null}
                  </tr>
                </thead>
                <tbody>
                  {scores.prompts.map((p, i) => (
                    <tr key={`${i}-${p}`} className={i === best ? 'bg-sky-50 font-semibold' : ''}>
                      <th scope="row" className="max-w-[12rem] truncate py-0.5 font-normal" title={p}>
                        {p}
                        {i === best ? <span className="sr-only"> (best match)</span> : null}
                      </th>
                      <td className="py-0.5 text-right font-mono">{scores.cosines[i]!.toFixed(3)}</td>
                      <td className="py-0.5 pl-2">
                        <div className="flex items-center gap-1">
                          <div className="h-2 w-16 rounded bg-slate-100" aria-hidden="true">
                            <div
                              className="h-2 rounded bg-sky-500"
                              style={{ width: `${scores.probabilities[i]! * 100}%` }}
                            />
                          </div>
                          <span className="font-mono">{formatPercent(scores.probabilities[i]!)}</span>
                        </div>
                      </td>
                      <td className="py-0.5 pl-2">
                        <div className="flex items-center gap-1">
                          <div className="h-2 w-16 rounded bg-slate-100" aria-hidden="true">
                            <div
                              className="h-2 rounded bg-violet-500"
                              style={{ width: `${scores.softmax[i]! * 100}%` }}
                            />
                          </div>
                          <span className="font-mono" data-testid="softmax-cell">
                            {formatPercent(scores.softmax[i]!)}
                          </span>
                        </div>
                      </td>
                      {scores.teacherCosines ? (
                        <td className={`py-0.5 text-right font-mono ${i === teacherBest ? 'underline' : ''}`}>
                          {scores.teacherCosines[i]!.toFixed(3)}
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : image.embedding ? (
              <p className="text-xs text-slate-500">Waiting for the prompt embeddings…</p>
            ) : busy ? (
              <p className="text-xs text-slate-500">Embedding…</p>
            ) : null}
            {scores?.teacherCosines && best !== undefined && teacherBest !== undefined ? (
              <p className="mt-2 text-xs text-slate-600" data-testid="teacher-summary">
                Best prompt from the tokens (TokLIP): <strong>{scores.prompts[best]}</strong>; from the pixels
                (teacher): <strong>{scores.prompts[teacherBest]}</strong>
                {best === teacherBest ? ' — they agree.' : ' — they differ.'}
              </p>
            ) : null}
          </section>
        </div>
      ) : busy ? (
        <p className="text-sm text-slate-500" role="status">
          {STATUS_TEXT[image.status]}
        </p>
      ) : null}

      {labOpen ? <TokenLab imageId={image.id} /> : null}

      {Object.keys(image.timings).length ? (
        <details className="mt-3 text-xs text-slate-500">
          <summary className="cursor-pointer">
            Timings ({providerName(provider ?? 'wasm')}): {formatMs(image.timings.total ?? NaN)} total
          </summary>
          <dl
            className="mt-1 grid grid-cols-[auto_auto] justify-start gap-x-4 font-mono"
            data-testid="timings"
          >
            {STAGES.filter((s) => image.timings[s] !== undefined).map((s) => (
              <div key={s} className="contents">
                <dt>{s}</dt>
                <dd>{formatMs(image.timings[s]!)}</dd>
              </div>
            ))}
          </dl>
        </details>
      ) : null}
    </article>
  );
}

export const ImageCard = memo(ImageCardImpl);
