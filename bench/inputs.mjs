/**
 * The fixed inputs every bench runtime feeds a stage (the app's worker bench hook builds the same ones): latency does
 * not depend on the values, but they are deterministic so runs are comparable.
 */
export function benchInput(manifest, role) {
  const S = manifest.image.size;
  const { h, w } = manifest.grid;
  const L = manifest.text.context_length;
  const textEmbeds = manifest.text.input === 'embeddings';
  if (role === 'vq_encoder' || role === 'teacher_image_encoder') {
    const px = new Float32Array(3 * S * S);
    for (let i = 0; i < px.length; i++) px[i] = (i / px.length) * 2 - 1;
    return { type: 'float32', data: px, dims: [1, 3, S, S] };
  }
  if (role === 'text_encoder' && textEmbeds) {
    const dim = manifest.text.embedding_table.dim;
    const n = L * dim;
    // small values keep the activations in a realistic range
    return {
      type: 'float32',
      data: Float32Array.from({ length: n }, (_, i) => -0.05 + (0.1 * i) / (n - 1)),
      dims: [1, L, dim],
    };
  }
  if (role === 'text_encoder')
    return { type: 'int32', data: Int32Array.from({ length: L }, (_, i) => (i * 7 + 5) % 100), dims: [1, L] };
  return {
    type: 'int32',
    data: Int32Array.from({ length: h * w }, (_, i) => (i * 37) % manifest.codebook.size),
    dims: [1, h, w],
  };
}
