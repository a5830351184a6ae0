import { describe, expect, it } from 'vitest';
import { ModelOriginsError, originAllowed, originRefusal, parseModelOrigins } from './modelOrigins';

describe('parseModelOrigins (TOKLIP_MODEL_ORIGINS)', () => {
  it('is empty when unset or blank', () => {
    expect(parseModelOrigins(undefined)).toEqual([]);
    expect(parseModelOrigins('  ')).toEqual([]);
  });

  it('normalises origins as URL.origin does and drops duplicates', () => {
    expect(
      parseModelOrigins(
        'https://HuggingFace.co, https://cdn-lfs.huggingface.co:443/ http://127.0.0.1:5311 https://huggingface.co',
      ),
    ).toEqual(['https://huggingface.co', 'https://cdn-lfs.huggingface.co', 'http://127.0.0.1:5311']);
    expect(parseModelOrigins('http://localhost:8080 http://[::1]:9000')).toEqual([
      'http://localhost:8080',
      'http://[::1]:9000',
    ]);
  });

  it('keeps a subdomain wildcard', () => {
    expect(parseModelOrigins('https://*.hf.co https://*.Example.org:8443')).toEqual([
      'https://*.hf.co',
      'https://*.example.org:8443',
    ]);
  });

  const bad: [string, RegExp][] = [
    ['*', /wildcard that allows every host/],
    ['https://*', /wildcard that allows every host/],
    ['*://example.com', /wildcard that allows every host/],
    ['https://ex*.com', /wildcard that allows every host/],
    ['https://*.com', /whole top-level domain/],
    ['https:', /not a URL origin/],
    ["'self'", /CSP keyword/],
    ['huggingface.co', /not a URL origin/],
    ['ftp://example.com', /neither https/],
    ['http://example.com', /plain http on a network host/],
    ['http://*.example.com', /plain http/],
    ['https://example.com/models', /path, query or fragment/],
    ['https://example.com/?a=1', /path, query or fragment/],
    ['https://user:pw@example.com', /credentials/],
  ];
  for (const [entry, why] of bad) {
    it(`refuses ${entry}, naming the entry, the rule and the variable`, () => {
      let err: unknown;
      try {
        parseModelOrigins(`https://ok.example ${entry}`);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModelOriginsError);
      const msg = (err as Error).message;
      expect(msg).toMatch(why);
      expect(msg).toContain(JSON.stringify(entry));
      expect(msg).toMatch(/^TOKLIP_MODEL_ORIGINS: /);
    });
  }
});

describe('originAllowed / originRefusal', () => {
  const page = 'https://app.example';
  const allowed = ['https://huggingface.co', 'https://*.hf.co', 'http://127.0.0.1:5311'];

  it('always allows the page origin', () => {
    expect(originAllowed('https://app.example/models/x/', page, [])).toBe(true);
    expect(originRefusal('https://app.example/sub/models/x/', page, [])).toBeNull();
  });

  it('allows listed origins exactly (scheme, host and port)', () => {
    expect(originAllowed('https://huggingface.co/org/repo/resolve/main/', page, allowed)).toBe(true);
    expect(originAllowed('http://127.0.0.1:5311/m/', page, allowed)).toBe(true);
    expect(originAllowed('http://127.0.0.1:5312/m/', page, allowed)).toBe(false);
    expect(originAllowed('http://huggingface.co/x/', page, allowed)).toBe(false);
    expect(originAllowed('https://huggingface.co:8443/x/', page, allowed)).toBe(false);
    expect(originAllowed('https://evilhuggingface.co/x/', page, allowed)).toBe(false);
  });

  it('allows subdomains for a wildcard, not the bare domain or another port', () => {
    expect(originAllowed('https://cas-bridge.xethub.hf.co/f/', page, allowed)).toBe(true);
    expect(originAllowed('https://hf.co/f/', page, allowed)).toBe(false);
    expect(originAllowed('https://x.hf.co:444/f/', page, allowed)).toBe(false);
    expect(originAllowed('https://x.nothf.co/f/', page, allowed)).toBe(false);
    expect(originAllowed('https://x.hf.co.evil.example/f/', page, allowed)).toBe(false);
    expect(originAllowed('https://a.b.example.org:8443/', page, ['https://*.example.org:8443'])).toBe(true);
    expect(originAllowed('https://a.example.org/', page, ['https://*.example.org:8443'])).toBe(false);
  });

  it('says which origin is refused, what the build allows and how to add it', () => {
    const msg = originRefusal('https://models.example.net/tiny/', page, allowed)!;
    expect(msg).toContain("https://models.example.net is not in this build's allow-list");
    expect(msg).toContain('it allows https://huggingface.co https://*.hf.co http://127.0.0.1:5311');
    expect(msg).toContain(
      'TOKLIP_MODEL_ORIGINS="https://huggingface.co https://*.hf.co http://127.0.0.1:5311 https://models.example.net" npm run build',
    );
    const none = originRefusal('https://models.example.net/tiny/', page, [])!;
    expect(none).toContain('it allows none');
    expect(none).toContain('TOKLIP_MODEL_ORIGINS="https://models.example.net"');
  });

  it('a refusal message names an origin the parser accepts (the advice works)', () => {
    const msg = originRefusal('http://127.0.0.1:5400/m/', page, [])!;
    const setting = /TOKLIP_MODEL_ORIGINS="([^"]+)"/.exec(msg)![1]!;
    const parsed = parseModelOrigins(setting);
    expect(originAllowed('http://127.0.0.1:5400/m/', page, parsed)).toBe(true);
  });
});
