import type { SourceSpec } from '../protocol';
import { DiskSource } from './disk';
import { HttpSource } from './http';
import type { ModelSource } from './types';

export type { ModelSource } from './types';

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
