import { describe, expect, it } from 'vitest';
import { opType, parsePlacement } from './placements';

// Shaped like onnxruntime's default log sink in onnxruntime-web 1.30 (time, severity, logId, source).
const at = (sev: string, id: string, msg: string) =>
  `2026-11-29 05:00:00.000000 [${sev}:onnxruntime:${id}, inference_session.cc:1403 Initialize] ${msg}`;

describe('parsePlacement', () => {
  it('reads a single-provider summary', () => {
    const lines = [
      at('I', 'vq_encoder', 'Node placements'),
      at('V', 'vq_encoder', ' All nodes placed on [CPUExecutionProvider]. Number of nodes: 199'),
    ];
    expect(parsePlacement(lines, 'vq_encoder')).toEqual({ nodes: { CPUExecutionProvider: 199 }, listed: {} });
  });

  it('reads per-provider counts and node lists, and only the asked session', () => {
    const lines = [
      at('V', 'text_encoder', ' All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 111'),
      at('V', 'vq_decoder', ' Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2'),
      at('V', 'vq_decoder', '  Gather (/decoder/mid.1/Gather)'),
      at('V', 'vq_decoder', '  Unsqueeze (/decoder/mid.1/Unsqueeze_5)'),
      at('V', 'vq_decoder', ' Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 1'),
      at('V', 'vq_decoder', '  Conv (/decoder/conv_in/Conv)'),
      at('V', 'vq_decoder', 'Some later message'),
      at('V', 'vq_decoder', '  indented text after the list is not a node'),
    ];
    expect(parsePlacement(lines, 'vq_decoder')).toEqual({
      nodes: { CPUExecutionProvider: 2, WebGpuExecutionProvider: 1 },
      listed: {
        CPUExecutionProvider: ['Gather (/decoder/mid.1/Gather)', 'Unsqueeze (/decoder/mid.1/Unsqueeze_5)'],
        WebGpuExecutionProvider: ['Conv (/decoder/conv_in/Conv)'],
      },
    });
    expect(parsePlacement(lines, 'text_encoder')?.nodes).toEqual({ WebGpuExecutionProvider: 111 });
  });

  it('says null, not "all on the requested provider", when nothing was logged', () => {
    expect(parsePlacement([at('W', 'x', 'something else'), 'plain console text'], 'x')).toBeNull();
    expect(parsePlacement([], 'x')).toBeNull();
  });

  it('names the operator of a listed node', () => {
    expect(opType('Gather (/encoder/attn.0/Gather_1)')).toBe('Gather');
  });
});
