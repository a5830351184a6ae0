"""Offline dataset builder for TokLIP Studio (Debian packages -> images and image-text pairs).

Run ``python -m toklip.data.build --out models/data [--limit N] [--install]``. It writes:

* ``photos/<id>.png`` + ``photos.jsonl``: photographs (short side <= 320 px) for the VQ tokenizer,
  ``{"id","file","source","package","orig_path","width","height","split"}``; ~8 % of photos are
  ``val`` (by SHA-256 of the id).
* ``pairs/<id>.png`` + ``pairs.jsonl``: 128x128 RGB images on white with 3-6 lower-case captions,
  ``{"id","file","source","concept","captions","group","subgroup","split","eval_rep"}``; ~10 % of
  *concepts* are ``val`` and each val concept has exactly one ``eval_rep`` item (first by id).
* ``sources.json``: package versions, item counts, licences and attributions, skipped packages.
* ``vocab_captions.txt``: every caption, one per line (text-tokenizer training).

Modules: :mod:`.rcc` (Qt resource bundle reader), :mod:`.sources` (one function per Debian
package), :mod:`.build` (image processing, captions, splits and the CLI).
"""
