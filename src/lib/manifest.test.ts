import { describe, expect, it } from 'vitest';
import { ManifestError, validateManifest } from './manifest';
import { sampleManifest } from './testutil';

function problems(m: unknown): string[] {
  try {
    validateManifest(m);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).problems;
  }
  return [];
}

describe('validateManifest', () => {
  it('accepts the contract example', () => {
    expect(validateManifest(sampleManifest()).grid).toEqual({ h: 16, w: 16 });
  });

  it('rejects another schema version with a clear message', () => {
    const m = { ...sampleManifest(), schema_version: 2 };
    expect(problems(m)).toEqual([
      'manifest.schema_version: this app reads schema version 1, the manifest has 2',
    ]);
  });

  it('names the bad fields', () => {
    const m = sampleManifest();
    (m.image as Record<string, unknown>).size = '128';
    (m.grid as Record<string, unknown>).w = 0;
    m.logit_scale = null;
    const p = problems(m);
    expect(p).toContain('manifest.image.size: expected a positive integer, got "128"');
    expect(p).toContain('manifest.grid.w: expected a positive integer, got 0');
    expect(p).toContain('manifest.logit_scale: expected a finite number, got null');
  });

  it('requires the graph files, the teacher when announced, and sane paths and hashes', () => {
    const m = sampleManifest();
    const files = m.files as Record<string, unknown>[];
    m.files = files.filter((f) => f.role !== 'teacher_image_encoder' && f.role !== 'codebook');
    (files[0] as Record<string, unknown>).path = '../etc/passwd';
    (files[1] as Record<string, unknown>).sha256 = 'ABC';
    const p = problems(m);
    expect(p).toContain('manifest.files: no file with role "codebook"');
    expect(p).toContain('manifest.files: no file with role "teacher_image_encoder" (teacher is true)');
    expect(p.some((s) => s.startsWith('manifest.files[0].path'))).toBe(true);
    expect(p).toContain('manifest.files[1].sha256: expected 64 lower-case hex digits, got "ABC"');
  });

  it('rejects non-objects and unknown preprocessing', () => {
    expect(problems([])).toEqual(['manifest: expected a JSON object, got []']);
    const m = sampleManifest();
    (m.image as Record<string, unknown>).interpolation = 'bicubic';
    expect(problems(m)).toEqual([
      'manifest.image.interpolation: expected one of "triangle_antialias", got "bicubic"',
    ]);
  });
});
