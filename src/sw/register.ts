/**
 * Registers the service worker (sw.js, next to index.html, so its scope is the app's folder on any sub-path).
 * Production builds only: the dev server has no sw.js, and a worker caching dev modules would serve stale code.
 * After the page's load event, so its precache downloads do not compete with the first model download.
 */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  window.addEventListener(
    'load',
    () => {
      navigator.serviceWorker.register('./sw.js').catch((e: unknown) => {
        // offline use is a bonus: the app works without it
        console.warn('service worker not registered:', e);
      });
    },
    { once: true },
  );
}
