/**
 * A deliberately plain static file server for the hosting tests: node:http, files from a folder under a URL
 * prefix, a Content-Type by extension and nothing else — no COOP/COEP, no CSP header, no Range, no
 * compression — like the simplest static host. It records every request so a test can tell which requests
 * reached the network at all. Options add what other hosts do (extra headers, CORS, Range, an HTML page for
 * every missing file), for the model-host tests.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.md': 'text/markdown',
};

export interface StaticServer {
  /** the page URL: http://127.0.0.1:<port><prefix> */
  url: string;
  /** every request's path (with query), in order */
  requests: string[];
  /** while down, every request is recorded and its connection dropped, as if the network were gone */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** added to every answer (e.g. COOP/COEP and a CSP for a page) */
  headers?: Record<string, string>;
  /**
   * Access-Control-Allow-Origin: * on every answer and preflights answered, like a public model host; it does
   * not expose Content-Range (Access-Control-Expose-Headers), as many such hosts do not
   */
  cors?: boolean;
  /** single `bytes=a-b` ranges answered 206 with Content-Range; otherwise the whole file, 200 */
  range?: boolean;
  /** a missing file is answered 200 with an HTML page, as single-page-app hosts do */
  htmlFallback?: boolean;
}

/** Serves `root` at http://127.0.0.1:<port><prefix> (prefix starts and ends with '/'). */
export async function serveStatic(
  root: string,
  port: number,
  prefix: string,
  opts: ServeOptions = {},
): Promise<StaticServer> {
  const common: Record<string, string> = {
    ...opts.headers,
    ...(opts.cors ? { 'Access-Control-Allow-Origin': '*' } : {}),
  };
  const requests: string[] = [];
  let down = false;
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    if (down) {
      req.socket.destroy();
      return;
    }
    const path = decodeURIComponent(url.split('?')[0]!);
    if (opts.cors && req.method === 'OPTIONS') {
      res
        .writeHead(204, {
          ...common,
          'Access-Control-Allow-Methods': 'GET, HEAD',
          'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '',
        })
        .end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, common).end();
      return;
    }
    const notFound = () => {
      if (opts.htmlFallback)
        res
          .writeHead(200, { ...common, 'Content-Type': 'text/html; charset=utf-8' })
          .end('<!doctype html><title>App</title><div id="root"></div>');
      else res.writeHead(404, { ...common, 'Content-Type': 'text/plain' }).end('not found');
    };
    if (!path.startsWith(prefix)) {
      notFound();
      return;
    }
    let file = normalize(join(root, path.slice(prefix.length)));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403, common).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const size = statSync(file).size;
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (opts.range && range && Number(range[1]) <= Number(range[2]) && Number(range[1]) < size) {
        const start = Number(range[1]);
        const end = Math.min(Number(range[2]), size - 1);
        res.writeHead(206, {
          ...common,
          'Content-Type': type,
          'Content-Length': String(end - start + 1),
          'Content-Range': `bytes ${start}-${end}/${size}`,
          'Accept-Ranges': 'bytes',
        });
        if (req.method === 'HEAD') res.end();
        else createReadStream(file, { start, end }).pipe(res);
        return;
      }
      res.writeHead(200, {
        ...common,
        'Content-Type': type,
        'Content-Length': String(size),
        ...(opts.range ? { 'Accept-Ranges': 'bytes' } : {}),
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    } catch {
      notFound();
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    requests,
    setDown: (d) => {
      down = d;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
