import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID, modelFolderUrl, resolveModel } from './models';

describe('resolveModel', () => {
  it('bundled ids and plain folder names stay under models/', () => {
    expect(resolveModel('toklip-tiny')).toEqual({ id: 'toklip-tiny', path: 'models/toklip-tiny/' });
    expect(resolveModel('my-model_2')).toEqual({ id: 'my-model_2', path: 'models/my-model_2/' });
  });

  it('falls back to the default model for nothing or a malformed name', () => {
    expect(resolveModel(null).id).toBe(DEFAULT_MODEL_ID);
    expect(resolveModel('../etc').id).toBe(DEFAULT_MODEL_ID);
    expect(resolveModel('ftp://host/folder/').id).toBe(DEFAULT_MODEL_ID);
  });

  it('an http(s) URL is a model folder anywhere, as an absolute folder URL', () => {
    const url = 'https://huggingface.co/org/repo/resolve/main/toklip-tiny/';
    expect(resolveModel(url)).toEqual({ id: url, path: url });
    expect(resolveModel(' http://127.0.0.1:5312/m/toklip-tiny ').path).toBe(
      'http://127.0.0.1:5312/m/toklip-tiny/',
    );
  });
});

describe('modelFolderUrl', () => {
  it('adds the final slash, drops manifest.json, query and fragment', () => {
    expect(modelFolderUrl('https://h.example/a/b')).toBe('https://h.example/a/b/');
    expect(modelFolderUrl('https://h.example/a/b/manifest.json?download=1#x')).toBe('https://h.example/a/b/');
    expect(modelFolderUrl('https://h.example')).toBe('https://h.example/');
  });

  it('refuses other schemes, credentials and non-URLs', () => {
    expect(modelFolderUrl('file:///tmp/model/')).toBeNull();
    expect(modelFolderUrl('https://u:p@h.example/a/')).toBeNull();
    expect(modelFolderUrl('https://')).toBeNull();
    expect(modelFolderUrl('toklip-tiny')).toBeNull();
  });
});
