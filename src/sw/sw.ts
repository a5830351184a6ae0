/// <reference lib="webworker" />
/**
 * The service worker: makes the app work offline after one visit (rules in src/lib/swPolicy.ts). Built as a
 * classic script at the scope root (sw.js) by vite-plugins/pwa.ts, which replaces the placeholder below with
 * the build's precache list and version. Registered only by production builds (src/sw/register.ts).
 *
 * It does not call clients.claim(): a page and its workers that started without it keep going straight to the
 * network for their whole life, so the first visit behaves exactly as without a service worker, and the next
 * load is served by it.
 */
import { appCacheName, isStaleAppCache, routeFor, type Route, type SwBuild } from '../lib/swPolicy';

declare const self: ServiceWorkerGlobalScope;

const BUILD = JSON.parse('__TOKLIP_SW_BUILD__') as SwBuild;
const CACHE = appCacheName(BUILD.version);
const PRECACHE = new Set(BUILD.precache);

function keyUrl(key: string): string {
  return new URL(key, self.registration.scope).href;
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // 'no-cache': revalidate, so the HTTP cache cannot hand an older build's unhashed file (ort/, index.html)
      // to this build's cache
      await cache.addAll(BUILD.precache.map((p) => new Request(keyUrl(p), { cache: 'no-cache' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys())
        if (isStaleAppCache(name, BUILD.version)) await caches.delete(name);
    })(),
  );
});

async function networkFirst(request: Request, route: Route): Promise<Response> {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(request);
    if (route.store && res.status === 200 && res.type === 'basic')
      await cache.put(keyUrl(route.key), res.clone());
    return res;
  } catch (e) {
    const hit = await cache.match(keyUrl(route.key));
    if (hit) return hit;
    throw e;
  }
}

async function cacheFirst(request: Request, route: Route): Promise<Response> {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(keyUrl(route.key));
  if (hit) return hit;
  const res = await fetch(request);
  if (route.store && res.status === 200 && res.type === 'basic')
    await cache.put(keyUrl(route.key), res.clone());
  return res;
}

self.addEventListener('fetch', (event) => {
  const r = event.request;
  const route = routeFor(
    { url: r.url, method: r.method, mode: r.mode, range: r.headers.has('Range') },
    self.registration.scope,
    PRECACHE,
  );
  if (!route) return;
  event.respondWith(route.strategy === 'cache-first' ? cacheFirst(r, route) : networkFirst(r, route));
});
