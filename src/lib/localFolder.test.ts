import { describe, expect, it } from 'vitest';
import { folderPath, splitRelativePaths } from './localFolder';

describe('local model folder paths', () => {
  it('normalises a path to the form manifest.json uses', () => {
    expect(folderPath('./a//b/./c.onnx')).toBe('a/b/c.onnx');
    expect(folderPath('manifest.json')).toBe('manifest.json');
  });

  it('drops the folder name webkitRelativePath starts with', () => {
    expect(
      splitRelativePaths(['my model/manifest.json', 'my model/samples/a.jpg', 'my model/x.onnx']),
    ).toEqual({ name: 'my model', paths: ['manifest.json', 'samples/a.jpg', 'x.onnx'] });
  });

  it('refuses files that are not all in one folder', () => {
    expect(splitRelativePaths(['a/manifest.json', 'b/x.onnx'])).toBeNull();
    expect(splitRelativePaths(['manifest.json'])).toBeNull();
    expect(splitRelativePaths([])).toBeNull();
  });
});
