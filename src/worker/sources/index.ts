import { DiskSource, type DiskSourceSpec } from './disk';
import { HttpSource, type HttpSourceSpec } from './http';
import type { ModelSource } from './types';

export type { ModelSource } from './types';
export type { DiskFile, DiskSourceSpec } from './disk';
export type { HttpSourceSpec } from './http';

/** What a load request names as the model's folder; adding a source adds its spec here and a case below. */
export type SourceSpec = HttpSourceSpec | DiskSourceSpec;

/** The one place that maps a load request's source to its reader. */
export function openSource(spec: SourceSpec): ModelSource {
  switch (spec.kind) {
    case 'http':
      return new HttpSource(spec.baseUrl);
    case 'disk':
      return new DiskSource(spec.name, spec.files);
    default: {
      const never: never = spec;
      throw new Error(`unknown model source ${JSON.stringify(never)}`);
    }
  }
}
