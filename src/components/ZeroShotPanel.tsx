import { useId, useMemo, useRef, type DragEvent } from 'react';
import type { Manifest } from '../lib/manifest';
import {
  accuracy,
  classCosines,
  confusionMatrix,
  costText,
  expandPrompts,
  predict,
  type Prediction,
} from '../lib/zeroShot';
import { useStore, type ImageItem } from '../store/store';
import {
  addFolderFromDrop,
  addFolderFromInput,
  cancelLabels,
  clearFolder,
  computeLabels,
  modelConcepts,
  setOpen,
  setSource,
  setTemplateSet,
  setUserText,
  useZeroShot,
  type ClassEmbeddings,
  type FolderState,
  type LabelSource,
} from '../store/zeroShot';
import { HiddenFolderInput } from './HiddenFolderInput';

const pct = (p: number) => `${(p * 100).toFixed(p < 0.001 ? 3 : 1)}%`;
/**
 * Text-encoder cost per prompt before a run on this device has measured one: a rough middle between TokLIP-Tiny's
 * ~1 ms natively (onnxruntime-node, batches of 64, one thread) and ~28 ms in the e2e's WASM run on a heavily shared
 * 2-core machine. Shown as a guess; replaced by the measured figure after the first long label run.
 */
const GUESS_MS_PER_PROMPT = 5;

const SOFTMAX_HELP = (scale: number, n: number) =>
  `Softmax over the ${n} labels: exp(s·cos) / Σ exp(s·cos), with s = logit_scale = ${scale.toFixed(2)} from the manifest. ` +
  'The labels compete: the values over all labels add up to 100%, so it reads as "which of these labels".';
const SIGMOID_HELP = (scale: number, bias: number) =>
  `SigLIP's sigmoid: σ(s·cos + b), s = ${scale.toFixed(2)}, b = ${bias.toFixed(2)} from the manifest. ` +
  'Each image–label pair on its own, as the model was trained: "does this label match at all"; it ignores the other labels. ' +
  'How high a match reads depends on how b was set (the model card says): a bias learned in SigLIP training carries its many-negatives odds and reads low.';

function TopTable({
  preds,
  labels,
  manifest,
  caption,
}: {
  preds: Prediction[];
  labels: string[];
  manifest: Manifest;
  caption: string;
}) {
  return (
    <table
      className="w-full text-left text-xs [&_td]:pr-3 [&_th]:pr-3"
      data-testid="zs-top"
      data-top={JSON.stringify(preds)}
    >
      <caption className="sr-only">{caption}</caption>
      <thead>
        <tr className="text-slate-600">
          <th scope="col">#</th>
          <th scope="col">Label</th>
          <th scope="col">cos</th>
          <th scope="col" title={SOFTMAX_HELP(manifest.logit_scale, labels.length)}>
            softmax over labels <span aria-hidden="true">(?)</span>
          </th>
          <th scope="col" title={SIGMOID_HELP(manifest.logit_scale, manifest.logit_bias)}>
            SigLIP sigmoid <span aria-hidden="true">(?)</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {preds.map((p, r) => (
          <tr key={p.index}>
            <td>{r + 1}</td>
            <td className="font-medium">{labels[p.index]}</td>
            <td className="tabular-nums">{p.cos.toFixed(3)}</td>
            <td className="tabular-nums">{pct(p.softmax)}</td>
            <td className="tabular-nums">{pct(p.sigmoid)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ImageTop({
  image,
  classes,
  manifest,
}: {
  image: ImageItem;
  classes: ClassEmbeddings;
  manifest: Manifest;
}) {
  const preds = useMemo(
    () =>
      predict(
        classCosines(image.embedding!, classes.embeddings, classes.dim),
        manifest.logit_scale,
        manifest.logit_bias,
      ),
    [image.embedding, classes, manifest],
  );
  return (
    <li className="rounded border border-slate-200 p-2" data-testid="zs-image" data-name={image.name}>
      <div className="mb-1 flex items-center gap-2">
        {image.url ? <img src={image.url} alt="" className="h-10 w-10 rounded object-cover" /> : null}
        <span className="text-sm font-medium">{image.name}</span>
      </div>
      <TopTable
        preds={preds}
        labels={classes.labels}
        manifest={manifest}
        caption={`Top ${preds.length} labels for ${image.name}`}
      />
    </li>
  );
}

function Confusion({ folder, truth, pred }: { folder: FolderState; truth: number[]; pred: number[] }) {
  const m = confusionMatrix(truth, pred, folder.labels.length);
  return (
    <table
      className="mt-2 border-collapse text-xs"
      data-testid="zs-confusion"
      data-matrix={JSON.stringify(m)}
    >
      <caption className="mb-1 text-left text-slate-600">
        Confusion matrix: rows are the true label (sub-folder), columns the predicted label; ✓ marks the
        diagonal (correct).
      </caption>
      <thead>
        <tr>
          <th scope="col" className="border border-slate-300 p-1">
            true ↓ / predicted →
          </th>
          {folder.labels.map((l) => (
            <th key={l} scope="col" className="border border-slate-300 p-1 font-medium">
              {l}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {m.map((row, t) => (
          <tr key={folder.labels[t]}>
            <th scope="row" className="border border-slate-300 p-1 text-left font-medium">
              {folder.labels[t]}
            </th>
            {row.map((v, p) => (
              <td
                key={p}
                className={`border border-slate-300 p-1 text-center tabular-nums ${
                  p === t ? (v ? 'bg-emerald-100' : '') : v ? 'bg-rose-100' : ''
                }`}
                data-testid="zs-cell"
              >
                {v}
                {p === t && v ? <span aria-label=" correct"> ✓</span> : null}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function FolderResults({ folder, manifest }: { folder: FolderState; manifest: Manifest }) {
  const classes = folder.classes;
  const rows = useMemo(
    () =>
      folder.items.map((it) => {
        if (!classes || !it.embedding) return { it, preds: null };
        const cos = classCosines(it.embedding, classes.embeddings, classes.dim);
        return { it, preds: predict(cos, manifest.logit_scale, manifest.logit_bias, 5) };
      }),
    [folder.items, classes, manifest],
  );
  const done = rows.filter((r) => r.preds);
  const truth = done.map((r) => r.it.truth);
  const pred = done.map((r) => r.preds![0]!.index);
  const correct = truth.filter((t, i) => t === pred[i]).length;
  const acc = accuracy(truth, pred);
  const complete = done.length > 0 && folder.items.every((x) => x.status === 'done' || x.status === 'error');
  return (
    <div
      data-testid="zs-folder"
      data-state={complete ? 'done' : 'working'}
      data-labels={JSON.stringify(folder.labels)}
      data-accuracy={JSON.stringify({ correct, total: done.length })}
    >
      <p className="text-sm">
        <strong>{folder.name}</strong>: {folder.items.length} images, {folder.labels.length} labels (the
        sub-folder names, each used as written as its prompt).{' '}
        {done.length ? (
          <span data-testid="zs-accuracy">
            Top-1 accuracy {correct} of {done.length} = {pct(acc)}
            {complete ? '' : ' so far'}.
          </span>
        ) : null}
      </p>
      {done.length ? <Confusion folder={folder} truth={truth} pred={pred} /> : null}
      <details className="mt-2 text-xs">
        <summary>Per image</summary>
        <table className="mt-1 w-full text-left [&_td]:pr-3 [&_th]:pr-3">
          <caption className="sr-only">Prediction per image of the folder</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">True label</th>
              <th scope="col">Predicted (softmax)</th>
              <th scope="col">Correct</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ it, preds }) => (
              <tr
                key={it.path}
                data-testid="zs-folder-item"
                data-path={it.path}
                data-status={it.status}
                data-truth={it.truth}
                data-ids={it.ids ? JSON.stringify(Array.from(it.ids)) : undefined}
                data-pred={preds ? preds[0]!.index : undefined}
              >
                <td>{it.path}</td>
                <td>{it.label}</td>
                <td>
                  {it.status === 'error'
                    ? `error: ${it.error}`
                    : preds
                      ? `${folder.labels[preds[0]!.index]} (${pct(preds[0]!.softmax)})`
                      : it.status}
                </td>
                <td>{preds ? (preds[0]!.index === it.truth ? '✓ yes' : '✗ no') : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}

function FolderInput() {
  const input = useRef<HTMLInputElement>(null);
  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    void addFolderFromDrop(e.dataTransfer.items);
  };
  return (
    <div
      onDragOver={(e) => e.preventDefault()}
      onDrop={onDrop}
      className="mt-2 rounded border-2 border-dashed border-slate-300 p-3 text-sm"
      data-testid="zs-dropzone"
    >
      Drop a folder whose sub-folders are the labels (e.g. <code>pets/cat/*.jpg</code>,{' '}
      <code>pets/dog/*.jpg</code>), or{' '}
      <button type="button" className="btn" onClick={() => input.current?.click()}>
        choose a folder…
      </button>
      <HiddenFolderInput
        inputRef={input}
        label="Labelled folder"
        testId="zs-folder-input"
        onFiles={(files) => addFolderFromInput(files)}
      />
    </div>
  );
}

const SOURCES: { id: LabelSource; label: string }[] = [
  { id: 'concepts', label: "The model's concepts" },
  { id: 'user', label: 'Your labels' },
  { id: 'imagenet', label: 'ImageNet-1k' },
];

/** Zero-shot classification: label sets, top-5 per image, and a labelled folder's accuracy and confusion matrix. */
export function ZeroShotPanel() {
  const id = useId();
  const zs = useZeroShot();
  const manifest = useStore((s) => s.model.manifest);
  const ready = useStore((s) => s.model.status === 'ready');
  const images = useStore((s) => s.images);
  const embedded = images.filter((im) => im.embedding);
  const concepts = manifest ? modelConcepts(manifest) : null;
  const templates = zs.labelset?.templates[zs.templateSet] ?? [];
  const rows = zs.labelset ? zs.labelset.classes.length * templates.length : 0;

  return (
    <section
      aria-labelledby={`${id}-title`}
      className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
      data-testid="zeroshot"
    >
      <div className="flex items-center justify-between">
        <h2 id={`${id}-title`} className="text-base font-semibold">
          Zero-shot classification
        </h2>
        <button
          type="button"
          className="btn"
          aria-expanded={zs.open}
          aria-controls={`${id}-body`}
          onClick={() => setOpen(!zs.open)}
          data-testid="zs-toggle"
        >
          {zs.open ? 'Hide' : 'Classify images with a label set'}
        </button>
      </div>
      <div className="sr-only" aria-live="polite" role="status" data-testid="zs-announcer">
        {zs.message}
      </div>
      {zs.open && manifest ? (
        <div id={`${id}-body`} className="mt-3 space-y-3">
          <fieldset>
            <legend className="text-sm font-medium">Label set</legend>
            <div className="mt-1 flex flex-wrap gap-4 text-sm">
              {SOURCES.map((s) => (
                <label key={s.id} className="flex items-center gap-1">
                  <input
                    type="radio"
                    name={`${id}-source`}
                    value={s.id}
                    checked={zs.source === s.id}
                    onChange={() => setSource(s.id)}
                    disabled={!ready}
                  />
                  {s.label}
                  {s.id === 'concepts' && concepts ? ` (${concepts.labels.length})` : ''}
                </label>
              ))}
            </div>
          </fieldset>

          {zs.source === 'concepts' && concepts ? (
            <p className="text-xs text-slate-600">
              {concepts.labels.length} labels from <code>{concepts.from}</code>
              {concepts.from === 'manifest.concepts'
                ? ', each embedded through its first training-data caption.'
                : ' (this model’s manifest lists no concepts; its default prompts stand in).'}
            </p>
          ) : null}

          {zs.source === 'user' ? (
            <div>
              <label htmlFor={`${id}-labels`} className="text-xs text-slate-600">
                One label per line (each is embedded as written)
              </label>
              <textarea
                id={`${id}-labels`}
                data-testid="zs-user-labels"
                value={zs.userText}
                onChange={(e) => setUserText(e.target.value)}
                rows={5}
                spellCheck={false}
                className="mt-1 w-full rounded border border-slate-300 p-2 font-mono text-sm"
              />
            </div>
          ) : null}

          {zs.source === 'imagenet' ? (
            <div className="space-y-1 text-xs text-slate-700">
              {zs.labelsetError ? <p role="alert">{zs.labelsetError}</p> : null}
              {zs.labelset ? (
                <>
                  <label className="flex flex-wrap items-center gap-2">
                    Prompt templates (averaged per class)
                    <select
                      value={zs.templateSet}
                      onChange={(e) => setTemplateSet(e.target.value)}
                      className="rounded border border-slate-300 p-1"
                      data-testid="zs-templates"
                    >
                      {Object.entries(zs.labelset.templates).map(([name, list]) => (
                        <option key={name} value={name}>
                          {name}: {list.length} templates, {zs.labelset!.classes.length * list.length} text
                          rows,{' '}
                          {costText(
                            zs.labelset!.classes.length * list.length,
                            zs.msPerPrompt ?? GUESS_MS_PER_PROMPT,
                          )}
                          {zs.msPerPrompt ? ' (measured here)' : ' (rough guess)'}
                        </option>
                      ))}
                    </select>
                  </label>
                  <p>
                    e.g. “{expandPrompts([zs.labelset.classes[0]!], templates.slice(0, 2)).join('”, “')}”…{' '}
                    {zs.labelset.attribution}{' '}
                    {zs.labelset.source.url ? (
                      <a className="underline" href={zs.labelset.source.url} rel="noreferrer" target="_blank">
                        {zs.labelset.source.package} {zs.labelset.source.version}
                      </a>
                    ) : null}{' '}
                    ({zs.labelset.source.license}).
                  </p>
                  {!zs.active && !zs.job ? (
                    <button
                      type="button"
                      className="btn btn-primary"
                      onClick={() => void computeLabels()}
                      disabled={!ready}
                      data-testid="zs-embed"
                    >
                      Embed {zs.labelset.classes.length} classes × {templates.length} templates ({rows} rows)
                    </button>
                  ) : null}
                </>
              ) : (
                <p>loading the label set…</p>
              )}
            </div>
          ) : null}

          {zs.job ? (
            <div className="flex items-center gap-2 text-xs" data-testid="zs-progress">
              <progress
                max={zs.job.total}
                value={zs.job.done}
                aria-label={`${zs.job.what}: ${zs.job.done} of ${zs.job.total} prompts embedded`}
                className="h-2 flex-1"
              />
              <span>
                {zs.job.done} / {zs.job.total} prompts
                {zs.job.msPerPrompt
                  ? `, ${costText(zs.job.total - zs.job.done, zs.job.msPerPrompt)} left`
                  : ''}
              </span>
              <button type="button" className="btn" onClick={cancelLabels}>
                Cancel
              </button>
            </div>
          ) : null}
          {zs.error ? (
            <p role="alert" className="text-sm text-rose-700">
              {zs.error}
            </p>
          ) : null}

          <details className="text-xs text-slate-700">
            <summary>What the two probabilities mean</summary>
            <p className="mt-1">
              <strong>softmax over labels</strong>:{' '}
              {SOFTMAX_HELP(manifest.logit_scale, zs.active?.labels.length ?? 0)}
            </p>
            <p className="mt-1">
              <strong>SigLIP sigmoid</strong>: {SIGMOID_HELP(manifest.logit_scale, manifest.logit_bias)}
            </p>
          </details>

          {zs.active ? (
            <div data-testid="zs-results" data-labels-count={zs.active.labels.length}>
              <h3 className="text-sm font-medium">Top 5 of {zs.active.labels.length} labels per image</h3>
              {embedded.length ? (
                <ul className="mt-1 grid gap-2 md:grid-cols-2">
                  {embedded.map((im) => (
                    <ImageTop key={im.id} image={im} classes={zs.active!} manifest={manifest} />
                  ))}
                </ul>
              ) : (
                <p className="text-xs text-slate-600">Add images above to classify them.</p>
              )}
            </div>
          ) : null}

          <div>
            <h3 className="text-sm font-medium">Labelled folder: accuracy</h3>
            <FolderInput />
            {zs.folderJob ? (
              <div className="mt-1 flex items-center gap-2 text-xs">
                <progress
                  max={zs.folderJob.total}
                  value={zs.folderJob.done}
                  aria-label={`${zs.folderJob.done} of ${zs.folderJob.total} folder images classified`}
                  className="h-2 flex-1"
                />
                <span>
                  {zs.folderJob.done} / {zs.folderJob.total} images
                </span>
              </div>
            ) : null}
            {zs.folder ? (
              <>
                <FolderResults folder={zs.folder} manifest={manifest} />
                <button type="button" className="btn mt-2" onClick={clearFolder}>
                  Clear the folder
                </button>
              </>
            ) : null}
          </div>
        </div>
      ) : null}
    </section>
  );
}
