import { useStore } from '../store/store';

/**
 * Registers the service worker (sw.js, next to index.html, so its scope is the app's folder on any sub-path).
 * Production builds only: the dev server has no sw.js, and a worker caching dev modules would serve stale code.
 * Only once the first model load has settled: its precache (27 MB of onnxruntime wasm among it) then revalidates
 * what the page already downloaded instead of competing with the first model download.
 */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  const settled = (status: string) => status === 'ready' || status === 'error';
  const register = () => {
    navigator.serviceWorker.register('./sw.js').catch((e: unknown) => {
      // offline use is a bonus: the app works without it
      console.warn('service worker not registered:', e);
    });
  };
  if (settled(useStore.getState().model.status)) {
    register();
    return;
  }
  const stop = useStore.subscribe((s) => {
    if (!settled(s.model.status)) return;
    stop();
    register();
  });
}
