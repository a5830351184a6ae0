import { useEffect, useMemo } from 'react';
import { activePrompts, initialise } from '../store/actions';
import { useStore } from '../store/store';
import { CacheManager } from './CacheManager';
import { GallerySearch } from './GallerySearch';
import { ImageCard } from './ImageCard';
import { InputPanel } from './InputPanel';
import { Matrices } from './Matrices';
import { ModelStatus } from './ModelStatus';
import { PromptEditor } from './PromptEditor';
import { ProviderControl } from './ProviderControl';
import { scoreImage, type PromptScores } from './results';
import { ZeroShotPanel } from './ZeroShotPanel';

let started = false;

export function App() {
  const images = useStore((s) => s.images);
  const promptList = useStore((s) => s.prompts);
  const textEmbeddings = useStore((s) => s.text.embeddings);
  const manifest = useStore((s) => s.model.manifest);
  const modelStatus = useStore((s) => s.model.status);
  const provider = useStore((s) => s.provider.active);
  const announcement = useStore((s) => s.announcement);

  useEffect(() => {
    if (started) return;
    started = true;
    void initialise();
  }, []);

  const prompts = useMemo(() => activePrompts(promptList), [promptList]);
  const scores = useMemo(() => {
    const m = new Map<string, PromptScores>();
    if (!manifest) return m;
    for (const im of images) {
      const s = scoreImage(im, prompts, textEmbeddings, manifest);
      if (s) m.set(im.id, s);
    }
    return m;
  }, [images, prompts, textEmbeddings, manifest]);

  return (
    <div
      className="min-h-screen bg-slate-50 text-slate-900"
      data-testid="app"
      data-provider={provider ?? ''}
      data-model-status={modelStatus}
    >
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:rounded focus:bg-white focus:p-2"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center justify-between gap-2 px-4 py-3">
          <div>
            <h1 className="text-lg font-bold tracking-tight">TokLIP Studio</h1>
            <p className="text-xs text-slate-600">
              One set of discrete tokens per image: decoded back to pixels (generation) and embedded next to
              text (comprehension).
            </p>
          </div>
          <ProviderControl />
        </div>
      </header>
      <main id="main" className="mx-auto max-w-7xl space-y-4 px-4 py-4">
        <ModelStatus />
        <CacheManager />
        <div className="grid gap-4 md:grid-cols-2">
          <InputPanel />
          <PromptEditor />
        </div>
        <Matrices images={images} scores={scores} prompts={prompts} />
        {images.length > 0 ? <GallerySearch /> : null}
        <ZeroShotPanel />
        <section aria-label="Results per image" className="space-y-4" data-testid="cards">
          {images.map((im) => (
            <ImageCard key={im.id} image={im} scores={scores.get(im.id) ?? null} />
          ))}
        </section>
      </main>
      <div className="sr-only" aria-live="polite" role="status" data-testid="announcer">
        {announcement}
      </div>
    </div>
  );
}
