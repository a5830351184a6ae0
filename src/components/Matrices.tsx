import { argmax, cosineMatrix } from '../lib/similarity';
import type { ImageItem } from '../store/store';
import type { PromptScores } from './results';

interface Props {
  images: ImageItem[];
  scores: Map<string, PromptScores>;
  prompts: string[];
}

function heat(v: number): string {
  // cosine in [-1, 1] → light-to-strong blue
  const t = Math.max(0, Math.min(1, (v + 1) / 2));
  return `rgba(14, 116, 144, ${(t * t * 0.85).toFixed(3)})`;
}

/** Image × prompt (best prompt per image highlighted) and image × image cosine matrices. */
export function Matrices({ images, scores, prompts }: Props) {
  const scored = images.filter((im) => scores.has(im.id));
  const embedded = images.filter((im) => im.embedding);
  if (!scored.length && embedded.length < 2) return null;
  const vectors = embedded.map((im) => im.embedding!);
  const imageCosines = cosineMatrix(vectors, vectors);
  return (
    <section
      aria-labelledby="matrices-title"
      className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
    >
      <h2 id="matrices-title" className="mb-2 text-base font-semibold">
        Similarity across images
      </h2>
      {scored.length ? (
        <div className="overflow-x-auto">
          <table className="text-xs" data-testid="image-prompt-matrix">
            <caption className="mb-1 text-left text-slate-600">
              Cosine similarity, image × prompt (best prompt per image outlined)
            </caption>
            <thead>
              <tr>
                <th scope="col" className="p-1 text-left font-normal text-slate-600">
                  image
                </th>
                {prompts.map((p, j) => (
                  <th
                    key={`${j}-${p}`}
                    scope="col"
                    className="max-w-[8rem] p-1 text-left align-bottom font-normal text-slate-700"
                  >
                    <span className="line-clamp-2" title={p}>
                      {p}
                    </span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {scored.map((im) => {
                const s = scores.get(im.id)!;
                const best = argmax(s.cosines);
                return (
                  <tr key={im.id}>
                    <th
                      scope="row"
                      className="max-w-[10rem] truncate p-1 text-left font-normal"
                      title={im.name}
                    >
                      {im.name}
                    </th>
                    {s.cosines.map((c, j) => (
                      <td
                        key={j}
                        className={`p-1 text-right font-mono ${j === best ? 'font-bold ring-2 ring-amber-500 ring-inset' : ''}`}
                        style={{ backgroundColor: heat(c) }}
                        aria-label={`${c.toFixed(3)}${j === best ? ', best match' : ''}`}
                      >
                        {c.toFixed(3)}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {embedded.length >= 2 ? (
        <div className="mt-4 overflow-x-auto">
          <table
            className="text-xs"
            data-testid="image-image-matrix"
            data-names={JSON.stringify(embedded.map((im) => im.name))}
            data-cosines={JSON.stringify(imageCosines)}
          >
            <caption className="mb-1 text-left text-slate-600">
              Cosine similarity, image × image (TokLIP embeddings)
            </caption>
            <thead>
              <tr>
                <td />
                {embedded.map((im) => (
                  <th
                    key={im.id}
                    scope="col"
                    className="max-w-[6rem] truncate p-1 font-normal text-slate-700"
                    title={im.name}
                  >
                    {im.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {embedded.map((a, i) => (
                <tr key={a.id}>
                  <th scope="row" className="max-w-[10rem] truncate p-1 text-left font-normal" title={a.name}>
                    {a.name}
                  </th>
                  {embedded.map((b, j) => {
                    const c = imageCosines[i]![j]!;
                    return (
                      <td
                        key={b.id}
                        className="p-1 text-right font-mono"
                        style={{ backgroundColor: heat(c) }}
                      >
                        {c.toFixed(3)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
