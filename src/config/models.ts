/** Model folders bundled with the app (public/models/<id>/). Everything else comes from each manifest. */
export interface ModelEntry {
  id: string;
  /** folder relative to the app's base URL */
  path: string;
}

export const MODELS: readonly ModelEntry[] = [{ id: 'toklip-tiny', path: 'models/toklip-tiny/' }];
export const DEFAULT_MODEL_ID = 'toklip-tiny';

/** ?model=<id> picks a bundled model; an id that is a plain folder name is accepted as models/<id>/. */
export function resolveModel(param: string | null): ModelEntry {
  if (param) {
    const known = MODELS.find((m) => m.id === param);
    if (known) return known;
    if (/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(param)) return { id: param, path: `models/${param}/` };
  }
  return MODELS.find((m) => m.id === DEFAULT_MODEL_ID)!;
}
