/**
 * Reads the declared input/output shapes of an ONNX model straight from its protobuf bytes (no session, no
 * weights touched: initializers are skipped by length), and checks them against the manifest's contract, so a
 * manifest whose grid/size/embedding width disagrees with its graphs is refused at load time with a message
 * naming both numbers. Pure; runs in the worker and under Node.
 */
import type { GraphRole, Manifest } from './manifest';

export type Dim = number | string | null;

export interface ValueShape {
  name: string;
  /** null when the graph gives no shape */
  dims: Dim[] | null;
}

export interface GraphShapes {
  inputs: ValueShape[];
  outputs: ValueShape[];
  initializers: Set<string>;
}

class Reader {
  at: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.at = start;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.end) throw new Error('truncated varint');
      const byte = this.b[this.at++]!;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new Error('bad varint');
  }
  /** Iterates fields: calls fn(field, wireType, reader positioned at the value); fn may consume LEN values. */
  fields(fn: (field: number, wire: number, start: number, end: number) => void): void {
    while (this.at < this.end) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (wire === 0) {
        const start = this.at;
        this.varint();
        fn(field, wire, start, this.at);
      } else if (wire === 1) {
        fn(field, wire, this.at, this.at + 8);
        this.at += 8;
      } else if (wire === 5) {
        fn(field, wire, this.at, this.at + 4);
        this.at += 4;
      } else if (wire === 2) {
        const len = this.varint();
        const start = this.at;
        if (start + len > this.end) throw new Error('truncated field');
        this.at += len;
        fn(field, wire, start, start + len);
      } else {
        throw new Error(`unsupported wire type ${wire}`);
      }
    }
  }
}

const utf8 = new TextDecoder();

function parseValueInfo(b: Uint8Array, start: number, end: number): ValueShape {
  let name = '';
  let dims: Dim[] | null = null;
  new Reader(b, start, end).fields((f, w, s, e) => {
    if (f === 1 && w === 2) name = utf8.decode(b.subarray(s, e));
    if (f === 2 && w === 2) {
      // TypeProto → tensor_type (1) → shape (2) → dim (1)*
      new Reader(b, s, e).fields((tf, tw, ts, te) => {
        if (tf !== 1 || tw !== 2) return;
        new Reader(b, ts, te).fields((sf, sw, ss, se) => {
          if (sf !== 2 || sw !== 2) return;
          dims = [];
          new Reader(b, ss, se).fields((df, dw, ds, de) => {
            if (df !== 1 || dw !== 2) return;
            let d: Dim = null;
            new Reader(b, ds, de).fields((xf, xw, xs, xe) => {
              if (xf === 1 && xw === 0) d = new Reader(b, xs, xe).varint();
              if (xf === 2 && xw === 2) d = utf8.decode(b.subarray(xs, xe));
            });
            dims!.push(d);
          });
        });
      });
    }
  });
  return { name, dims };
}

/** Parses ModelProto.graph's inputs and outputs. Throws on malformed bytes. */
export function readGraphShapes(bytes: Uint8Array): GraphShapes {
  const out: GraphShapes = { inputs: [], outputs: [], initializers: new Set() };
  let sawGraph = false;
  new Reader(bytes, 0, bytes.length).fields((f, w, s, e) => {
    if (f !== 7 || w !== 2) return;
    sawGraph = true;
    new Reader(bytes, s, e).fields((gf, gw, gs, ge) => {
      if (gw !== 2) return;
      if (gf === 11) out.inputs.push(parseValueInfo(bytes, gs, ge));
      else if (gf === 12) out.outputs.push(parseValueInfo(bytes, gs, ge));
      else if (gf === 5) {
        // TensorProto.name is field 8: find it without reading the data
        new Reader(bytes, gs, ge).fields((tf, tw, ts, te) => {
          if (tf === 8 && tw === 2) out.initializers.add(utf8.decode(bytes.subarray(ts, te)));
        });
      }
    });
  });
  if (!sawGraph) throw new Error('not an ONNX model (no graph)');
  out.inputs = out.inputs.filter((i) => !out.initializers.has(i.name));
  return out;
}

const fmt = (dims: Dim[] | null) =>
  dims ? `[${dims.map((d) => (typeof d === 'number' ? d : d === null ? '?' : d)).join(', ')}]` : 'unknown';

/** Compares declared dims with what the contract expects; `null` entries in `want` are not checked (batch). */
function mismatch(have: Dim[] | null, want: (number | null)[]): boolean {
  if (!have) return false; // nothing declared: cannot check
  if (have.length !== want.length) return true;
  return want.some((w, i) => w !== null && typeof have[i] === 'number' && have[i] !== w);
}

/**
 * Problems (empty when none) between a graph's declared shapes and the manifest. Each names the graph file,
 * the tensor, the declared shape and the manifest fields it disagrees with.
 */
export function checkGraphAgainstManifest(
  role: GraphRole,
  path: string,
  shapes: GraphShapes,
  m: Manifest,
): string[] {
  const S = m.image.size;
  const { h, w } = m.grid;
  const E = m.embed_dim;
  const L = m.text.context_length;
  // text.input "embeddings": token_embeds [B, L, dim] from the table (dim 0 cannot happen once validated)
  const D = m.text.embedding_table?.dim ?? 0;
  const expect: Record<
    GraphRole,
    { input: (number | null)[]; output: (number | null)[]; why: [string, string] }
  > = {
    vq_encoder: {
      input: [null, 3, S, S],
      output: [null, h, w],
      why: [`image.size ${S}`, `grid ${h}×${w}`],
    },
    vq_decoder: {
      input: [null, h, w],
      output: [null, 3, S, S],
      why: [`grid ${h}×${w}`, `image.size ${S}`],
    },
    semantic_encoder: { input: [null, h, w], output: [null, E], why: [`grid ${h}×${w}`, `embed_dim ${E}`] },
    text_encoder:
      m.text.input === 'embeddings'
        ? {
            input: [null, L, D],
            output: [null, E],
            why: [`text.context_length ${L} with embedding_table.dim ${D}`, `embed_dim ${E}`],
          }
        : {
            input: [null, L],
            output: [null, E],
            why: [`text.context_length ${L}`, `embed_dim ${E}`],
          },
    teacher_image_encoder: {
      input: [null, 3, S, S],
      output: [null, E],
      why: [`image.size ${S}`, `embed_dim ${E}`],
    },
  };
  const e = expect[role];
  const problems: string[] = [];
  const inp = shapes.inputs[0];
  const outp = shapes.outputs[0];
  if (!inp || !outp) return [`${path} has no graph input or output`];
  if (mismatch(inp.dims, e.input)) {
    problems.push(
      `${path} takes "${inp.name}" of shape ${fmt(inp.dims)}, but the manifest's ${e.why[0]} implies ${fmt(e.input.map((d) => d ?? 'B'))}`,
    );
  }
  if (mismatch(outp.dims, e.output)) {
    problems.push(
      `${path} returns "${outp.name}" of shape ${fmt(outp.dims)}, but the manifest's ${e.why[1]} implies ${fmt(e.output.map((d) => d ?? 'B'))}`,
    );
  }
  return problems;
}
