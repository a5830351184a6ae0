/**
 * The part of open_clip's SigLIP cleaning that runs before big_vision's `canonicalize_text`:
 * `ftfy.fix_text` (default settings) then Python's `html.unescape` twice. Without it, prompts typed on
 * phones (“curly quotes”, it’s), pasted from the web (&amp;) or in fullwidth forms (ＡＢＣ) would reach the
 * official text tower as different ids than open_clip gives it.
 *
 * The data (HTML5 entities, ftfy's width/ligature/control tables, the Windows-1252 C1 map) is dumped from
 * the installed ftfy and Python by `python -m toklip.text_fix_tables` into textFixTables.json, so it is not
 * transcribed by hand. Not reproduced: ftfy's mojibake repair (`fix_encoding`, e.g. "cafÃ©" → "café"),
 * a statistical heuristic; text that looks like mojibake can therefore clean differently (docs/OFFICIAL.md).
 */
import tables from './textFixTables.json' with { type: 'json' };

interface Tables {
  html5: Record<string, string>;
  invalid_charrefs: Record<string, string>;
  invalid_codepoints: number[];
  ftfy_extra_entities: Record<string, string>;
  ligatures: Record<string, string>;
  width_map: Record<string, string>;
  control_chars: number[];
  c1_map: Record<string, string>;
  single_quotes: string;
  double_quotes: string;
}

const T = tables as Tables;
const HTML5 = new Map(Object.entries(T.html5));
const INVALID_CHARREFS = new Map(Object.entries(T.invalid_charrefs).map(([k, v]) => [Number(k), v]));
const INVALID_CODEPOINTS = new Set(T.invalid_codepoints);

/** Python's `html._charref`; `u` so that the {1,32} counts code points as Python does. */
const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function replaceCharref(s: string): string {
  if (s[0] === '#') {
    const hex = s[1] === 'x' || s[1] === 'X';
    const digits = s.slice(hex ? 2 : 1).replace(/;$/, '');
    // Number() of a long digit string is huge or Infinity: either way above 0x10FFFF, as in Python.
    const num = hex ? parseInt(digits, 16) : Number(digits);
    const invalid = INVALID_CHARREFS.get(num);
    if (invalid !== undefined) return invalid;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
    if (INVALID_CODEPOINTS.has(num)) return '';
    return String.fromCodePoint(num);
  }
  const whole = HTML5.get(s);
  if (whole !== undefined) return whole;
  // The longest prefix that is an entity name, as the HTML standard (and Python) decodes "&ampx".
  const cps = [...s];
  for (let x = cps.length - 1; x > 1; x--) {
    const prefix = cps.slice(0, x).join('');
    const hit = HTML5.get(prefix);
    if (hit !== undefined) return hit + cps.slice(x).join('');
  }
  return '&' + s;
}

/** Python's `html.unescape`. */
export function pyHtmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF, (_m, body: string) => replaceCharref(body));
}

// ---- ftfy.fix_text with its default TextFixerConfig, minus fix_encoding -------------------------------

const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;
const FTFY_ENTITIES = new Map<string, string>();
for (const [name, value] of HTML5) if (name.endsWith(';')) FTFY_ENTITIES.set('&' + name, value);
for (const [name, value] of Object.entries(T.ftfy_extra_entities)) FTFY_ENTITIES.set(name, value);

/** ftfy's `unescape_html`: only unambiguous `;`-terminated names (and some upper-cased ones), plus numeric refs. */
function ftfyUnescapeHtml(text: string): string {
  return text.replace(FTFY_ENTITY, (m) => {
    const hit = FTFY_ENTITIES.get(m);
    if (hit !== undefined) return hit;
    if (m.startsWith('&#')) {
      const u = pyHtmlUnescape(m);
      return u.includes(';') ? m : u;
    }
    return m;
  });
}

function translator(map: Record<string, string>): (text: string) => string {
  const m = new Map(Object.entries(map));
  const cls = new RegExp(
    `[${[...m.keys()].map((c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join('')}]`,
    'gu',
  );
  return (text) => text.replace(cls, (c) => m.get(c)!);
}

const fixC1Controls = translator(T.c1_map);
const fixLatinLigatures = translator(T.ligatures);
const fixCharacterWidth = translator(T.width_map);
const removeControlChars = translator(
  Object.fromEntries(T.control_chars.map((cp) => [String.fromCodePoint(cp), ''])),
);
const SINGLE_QUOTE = new RegExp(T.single_quotes, 'gu');
const DOUBLE_QUOTE = new RegExp(T.double_quotes, 'gu');
const uncurlQuotes = (t: string) => t.replace(DOUBLE_QUOTE, '"').replace(SINGLE_QUOTE, "'");
const fixLineBreaks = (t: string) => t.replace(/\r\n|[\r\u2028\u2029\u0085]/g, '\n');
/** A JS string holds surrogate pairs as one code point already; only lone halves remain to replace. */
const fixSurrogates = (t: string) => t.replace(/\p{Cs}/gu, '\ufffd');
/** Python's `\d` is any Unicode decimal digit. */
// eslint-disable-next-line no-control-regex -- ESC starts the sequences being removed
const ANSI = /\x1b\[((?:\p{Nd}|;)*)([a-zA-Z])/gu;
const removeTerminalEscapes = (t: string) => t.replace(ANSI, '');

function fixSegment(segment: string, unescape: boolean): string {
  let text = segment;
  for (;;) {
    const before = text;
    if (unescape) text = ftfyUnescapeHtml(text);
    text = fixC1Controls(text);
    text = fixLatinLigatures(text);
    text = fixCharacterWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = fixSurrogates(text);
    text = removeTerminalEscapes(text);
    text = removeControlChars(text);
    text = text.normalize('NFC');
    if (text === before) return text;
  }
}

/**
 * `ftfy.fix_text(text)` without mojibake repair. ftfy works line by line and stops decoding HTML for the
 * rest of the text once a line holds '<' (it may be markup); both are kept.
 */
export function ftfyFixText(text: string): string {
  let unescape = true;
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    const segment = text.slice(pos, end);
    if (unescape && segment.includes('<')) unescape = false;
    out += fixSegment(segment, unescape);
    pos = end;
  }
  return out;
}

/** open_clip's `basic_clean` without its final strip (canonicalize_text splits on whitespace anyway). */
export function openClipBasicClean(text: string): string {
  return pyHtmlUnescape(pyHtmlUnescape(ftfyFixText(text)));
}
