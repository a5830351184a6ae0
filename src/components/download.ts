/** Saves bytes as a file through a temporary link (nothing leaves the browser). */
export function download(file: { name: string; bytes: Uint8Array | string; type: string }): void {
  const blob = new Blob([file.bytes as BlobPart], { type: file.type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = file.name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // revoked later: the click only starts the download
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
