/**
 * Other origins a build may load model folders from. The built app's Content-Security-Policy allows network
 * requests to its own origin only; `TOKLIP_MODEL_ORIGINS` (read by vite.config.ts at build time) adds origins to
 * its connect-src and img-src, and the same list is compiled into the app so that a model URL outside it is
 * refused with an explanation before anything is fetched, instead of failing as an opaque CSP violation.
 * Pure: used by vite.config.ts in Node and by the inference worker.
 */

export const MODEL_ORIGINS_ENV = 'TOKLIP_MODEL_ORIGINS';

const EXAMPLE = 'https://huggingface.co https://*.hf.co';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export class ModelOriginsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelOriginsError';
  }
}

function refuse(entry: string, why: string): never {
  throw new ModelOriginsError(
    `${MODEL_ORIGINS_ENV}: ${JSON.stringify(entry)} ${why}. Expected a space-separated list of origins, e.g. ` +
      `${MODEL_ORIGINS_ENV}="${EXAMPLE}" npm run build: https://host[:port] or https://*.domain (its subdomains), ` +
      'or http:// only for 127.0.0.1 / localhost.',
  );
}

/** One entry, normalised to what URL.origin writes (lower-case host, no default port). */
function parseEntry(entry: string): string {
  const e = entry.replace(/\/$/, '');
  if (/^'|'$/.test(e)) refuse(entry, 'is a CSP keyword, not an origin');
  const wild = /^([a-z][a-z0-9+.-]*:\/\/)\*\.(.*)$/i.exec(e);
  if (e.includes('*') && !wild)
    refuse(entry, 'has a wildcard that allows every host; only a leading "*." before a domain is accepted');
  if (wild && !/^[^*/:]+\.[^*/:]+(:\d+)?$/.test(wild[2]!))
    refuse(entry, 'has a wildcard over a whole top-level domain');
  // a placeholder label lets URL check the rest; it is put back as "*." below
  const probe = wild ? `${wild[1]}wildcard-label.${wild[2]}` : e;
  let u: URL;
  try {
    u = new URL(probe);
  } catch {
    refuse(entry, 'is not a URL origin (scheme://host[:port])');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') refuse(entry, 'is neither https:// nor http://');
  if (u.username || u.password) refuse(entry, 'carries credentials');
  if (u.pathname !== '/' || u.search || u.hash || /^[a-z]+:\/\/[^/]+\/./i.test(e))
    refuse(entry, 'has a path, query or fragment: give the origin only (scheme://host[:port])');
  if (u.protocol === 'http:' && (wild || !LOOPBACK.has(u.hostname)))
    refuse(
      entry,
      'is plain http on a network host: a page served over https cannot fetch from it, so only https (or http on 127.0.0.1 / localhost for testing) is accepted',
    );
  return wild ? u.origin.replace('//wildcard-label.', '//*.') : u.origin;
}

/**
 * Parses the build setting: origins separated by spaces or commas; empty or unset = none. Throws a
 * ModelOriginsError that names the entry and the rule it breaks.
 */
export function parseModelOrigins(setting: string | undefined): string[] {
  const out: string[] = [];
  for (const entry of (setting ?? '').split(/[\s,]+/).filter(Boolean)) {
    const o = parseEntry(entry);
    if (!out.includes(o)) out.push(o);
  }
  return out;
}

/** Whether `url` is on the page's own origin or one the allow-list names (exact origin or "*." subdomain). */
export function originAllowed(url: string, pageOrigin: string, allowed: readonly string[]): boolean {
  const u = new URL(url);
  if (u.origin === pageOrigin) return true;
  return allowed.some((a) => {
    const wild = /^([a-z]+:)\/\/\*\.(.*)$/.exec(a);
    if (!wild) return a === u.origin;
    const [host, port = ''] = wild[2]!.split(':');
    return u.protocol === wild[1] && u.host.endsWith(`.${host}${port ? `:${port}` : ''}`) && u.port === port;
  });
}

/** Why `url` may not be loaded by this build, with how to allow it; null when it may. */
export function originRefusal(url: string, pageOrigin: string, allowed: readonly string[]): string | null {
  if (originAllowed(url, pageOrigin, allowed)) return null;
  const origin = new URL(url).origin;
  const list = allowed.length ? `it allows ${allowed.join(' ')}` : 'it allows none';
  return (
    `${origin} is not in this build's allow-list of model origins (besides its own origin, ${list}), so the ` +
    `app's Content-Security-Policy (connect-src) would block the download. To load model folders from it, ` +
    `rebuild with ${MODEL_ORIGINS_ENV}="${[...allowed, origin].join(' ')}" npm run build (docs/HOSTING.md), ` +
    'or copy the folder into public/models/.'
  );
}
