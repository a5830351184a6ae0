"""Character tables for the app's copy of open_clip's SigLIP text cleaning.

open_clip cleans a SigLIP2 prompt with ``ftfy.fix_text``, ``html.unescape`` twice and big_vision's
``canonicalize_text`` (see :func:`toklip.official.clean_open_clip`). The browser has neither ftfy nor
Python's HTML5 entity list, so this module dumps the data those functions consult (taken from the
installed ftfy and Python, not typed by hand) into ``src/lib/textFixTables.json``; ``src/lib/textFix.ts``
applies it. ``tests/test_official.py`` fails when the committed file differs from what the installed
versions give.

    python -m toklip.text_fix_tables [--out src/lib/textFixTables.json]
"""

from __future__ import annotations

import argparse
import html
import html.entities
import json
import platform
from pathlib import Path
from typing import Any

import ftfy
from ftfy import chardata

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "src/lib/textFixTables.json"


def _char_map(table: dict[int, Any]) -> dict[str, str]:
    return {chr(k): ("" if v is None else v) for k, v in sorted(table.items())}


def build_tables() -> dict[str, Any]:
    """Everything textFix.ts needs, as JSON-ready values."""
    html5: dict[str, str] = dict(html.entities.html5)  # type: ignore[attr-defined]
    # ftfy decodes the html5 names that end in ';' plus some upper-cased ones; ship only the extras.
    derived = {"&" + k: v for k, v in html5.items() if k.endswith(";")}
    ftfy_extra = {k: v for k, v in chardata.HTML_ENTITIES.items() if derived.get(k) != v}
    missing = [k for k in derived if k not in chardata.HTML_ENTITIES]
    if missing:  # the TS side assumes ftfy's table contains every ';' name
        raise RuntimeError(f"ftfy's HTML_ENTITIES lacks {missing[:5]}: textFix.ts needs updating")
    c1 = {chr(b): bytes([b]).decode("sloppy-windows-1252") for b in range(0x80, 0xA0)}
    return {
        "source": f"ftfy {ftfy.__version__}, Python {platform.python_version()} html.entities; "
        "written by python -m toklip.text_fix_tables",
        "html5": html5,
        "invalid_charrefs": {str(k): v for k, v in sorted(html._invalid_charrefs.items())},  # type: ignore[attr-defined]
        "invalid_codepoints": sorted(html._invalid_codepoints),  # type: ignore[attr-defined]
        "ftfy_extra_entities": ftfy_extra,
        "ligatures": _char_map(chardata.LIGATURES),
        "width_map": _char_map(chardata.WIDTH_MAP),
        "control_chars": sorted(chardata.CONTROL_CHARS),
        "c1_map": c1,
        "single_quotes": chardata.SINGLE_QUOTE_RE.pattern,
        "double_quotes": chardata.DOUBLE_QUOTE_RE.pattern,
    }


def render(tables: dict[str, Any]) -> str:
    return json.dumps(tables, ensure_ascii=False, indent=0) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON (default: %(default)s)")
    a = ap.parse_args(argv)
    a.out.write_text(render(build_tables()), encoding="utf-8")
    print(f"wrote {a.out} ({a.out.stat().st_size / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()
