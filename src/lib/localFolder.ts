/**
 * Paths of a model folder picked on this computer. The folder input names each file by `webkitRelativePath`
 * ("my-model/sub/x.onnx", the folder's own name first); the directory picker and a drop give each file's path
 * inside the folder. Both end as '/'-separated paths relative to the folder, as manifest.json names them.
 */

/** '/'-separated, without '.' or empty segments ("./a//b" → "a/b"); '..' is refused earlier by the manifest check. */
export function folderPath(path: string): string {
  return path
    .split('/')
    .filter((seg) => seg !== '' && seg !== '.')
    .join('/');
}

/**
 * The folder's name and each file's path inside it, from `webkitRelativePath`s. null when the files do not share
 * one top folder (not what a folder input gives).
 */
export function splitRelativePaths(
  relativePaths: readonly string[],
): { name: string; paths: string[] } | null {
  let name: string | null = null;
  const paths: string[] = [];
  for (const rel of relativePaths) {
    const parts = folderPath(rel).split('/');
    if (parts.length < 2) return null;
    const top = parts.shift()!;
    if (name !== null && top !== name) return null;
    name = top;
    paths.push(parts.join('/'));
  }
  return name === null ? null : { name, paths };
}
