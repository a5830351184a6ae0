/**
 * A deliberately plain static file server for the hosting tests: node:http, files from a folder under a URL
 * prefix, a Content-Type by extension and nothing else — no COOP/COEP, no CSP header, no Range, no
 * compression — like the simplest static host. It records every request so a test can tell which requests
 * reached the network at all.
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

/** Serves `root` at http://127.0.0.1:<port><prefix> (prefix starts and ends with '/'). */
export async function serveStatic(root: string, port: number, prefix: string): Promise<StaticServer> {
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
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (!path.startsWith(prefix)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    let file = normalize(join(root, path.slice(prefix.length)));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const size = statSync(file).size;
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Length': String(size),
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
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
