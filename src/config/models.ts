/** Model folders bundled with the app (public/models/<id>/). Everything else comes from each manifest. */
export interface ModelEntry {
  id: string;
  /** folder relative to the app's base URL, or an absolute http(s) URL ending in '/' */
  path: string;
}

export const MODELS: readonly ModelEntry[] = [{ id: 'toklip-tiny', path: 'models/toklip-tiny/' }];
export const DEFAULT_MODEL_ID = 'toklip-tiny';

/**
 * An http(s) URL of a model folder, as a folder URL: a trailing manifest.json, the query and the fragment are
 * dropped (files resolve against the folder), and a missing final '/' is added. Null for anything else.
 */
export function modelFolderUrl(text: string): string | null {
  if (!/^https?:\/\//i.test(text)) return null;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return null;
  }
  if (u.username || u.password) return null;
  u.search = '';
  u.hash = '';
  u.pathname = u.pathname.replace(/\/manifest\.json$/i, '/').replace(/([^/])$/, '$1/');
  return u.href;
}

/**
 * ?model=<id> or the model field: a bundled model's id, a plain folder name (models/<id>/), or the http(s) URL of
 * a model folder anywhere (which this build's CSP must allow: src/lib/modelOrigins.ts).
 */
export function resolveModel(param: string | null): ModelEntry {
  if (param) {
    const known = MODELS.find((m) => m.id === param);
    if (known) return known;
    const url = modelFolderUrl(param.trim());
    if (url) return { id: url, path: url };
    if (/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(param)) return { id: param, path: `models/${param}/` };
  }
  return MODELS.find((m) => m.id === DEFAULT_MODEL_ID)!;
}
