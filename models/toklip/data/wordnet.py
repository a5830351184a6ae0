"""WordNet 3.0 word knowledge for TokLIP-Tiny v2 captions, read from Debian's ``wordnet-base``.

Parses the database files directly (format: wndb(5), ``man 5 wndb``): ``index.noun`` maps a lemma to
its synset offsets, most frequent sense first; each synset is one line of ``data.noun`` at that byte
offset (``offset lex_filenum ss_type w_cnt word lex_id ... p_cnt ptr... | gloss``). No download, no
third-party parser (``nltk``/``wn`` fetch their data from the network).

Used to augment a concept's captions with synonyms and broader terms, so prompts beyond the
exact CLDR/icon names land near the right images: for "kitten" -> "kitty", "young mammal", "animal".
Only the first (most frequent) sense is used: the concept names come without context, and the
first sense is WordNet's best guess.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import sources as S
from .sources import SourceUnavailable

DEBIAN_DIR = Path("/usr/share/wordnet")
# Broad categories people say ("an animal", "a vehicle"): the most general of these on a concept's
# hypernym chain becomes a caption. Deliberately excludes the top of the hierarchy (entity,
# object, artifact, whole, abstraction), which would describe everything.
BASIC_CATEGORIES = (
    "animal", "plant", "food", "fruit", "vegetable", "beverage", "vehicle", "tool", "building",
    "person", "musical instrument", "device", "container", "clothing", "furniture", "structure",
    "body part", "weapon", "game", "sport", "flower", "tree", "bird", "fish", "insect", "mammal",
    "reptile", "dish", "toy", "machine", "shape", "symbol", "natural object", "geological formation",
)
NOUN_SUFFIX_RULES = (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
                     ("men", "man"), ("ies", "y"))


@dataclass(frozen=True)
class Synset:
    offset: int
    pos: str
    lemmas: tuple[str, ...]  # as written in WordNet, underscores for spaces
    hypernyms: tuple[int, ...]  # '@' and instance '@i' pointers to noun synsets
    gloss: str

    @property
    def words(self) -> list[str]:
        """Lower-case lemmas with spaces; capitalised ones (Latin and proper names) left out."""
        return [w.replace("_", " ") for w in self.lemmas if w == w.lower()]


@dataclass(frozen=True)
class WordInfo:
    query: str  # what was looked up ("red apple")
    lemma: str  # the WordNet lemma it matched ("apple": the head noun when the phrase is unknown)
    exact: bool  # False when only the head noun matched: synonyms are then not offered
    synonyms: list[str]
    hypernyms: list[str]  # the immediate broader terms
    category: str | None  # most general BASIC_CATEGORIES entry on the hypernym chain
    gloss: str


def parse_data_line(line: str, pos: str = "n") -> Synset:
    """One ``data.<pos>`` line (wndb(5)). Raises ValueError on a malformed line."""
    head, _, gloss = line.partition(" | ")
    f = head.split()
    offset, w_cnt = int(f[0]), int(f[3], 16)
    lemmas = tuple(f[4 + 2 * i] for i in range(w_cnt))
    i = 4 + 2 * w_cnt
    p_cnt = int(f[i])
    hyps = []
    for j in range(p_cnt):
        sym, target, tpos = f[i + 1 + 4 * j], f[i + 2 + 4 * j], f[i + 3 + 4 * j]
        if sym in ("@", "@i") and tpos == "n":
            hyps.append(int(target))
    return Synset(offset, pos, lemmas, tuple(hyps), gloss.strip())


class WordNet:
    """Noun lookups over one WordNet database folder (``index.noun``, ``data.noun``, ``noun.exc``)."""

    def __init__(self, root: str | Path = DEBIAN_DIR) -> None:
        self.root = Path(root)
        for name in ("index.noun", "data.noun"):
            if not (self.root / name).is_file():
                raise SourceUnavailable(f"wordnet-base: {self.root / name} missing (apt-get install wordnet-base)")
        self._index: dict[str, list[int]] | None = None
        self._exc: dict[str, list[str]] | None = None

    @classmethod
    def from_debian(cls) -> "WordNet":
        return cls(Path(S.find_file("wordnet-base", "/data.noun")).parent)

    @staticmethod
    def version() -> str | None:
        return S.pkg_version("wordnet-base")

    @property
    def index(self) -> dict[str, list[int]]:
        if self._index is None:
            idx: dict[str, list[int]] = {}
            with open(self.root / "index.noun", encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith(" ") or not line.strip():  # licence header lines start with spaces
                        continue
                    f = line.split()
                    p_cnt = int(f[3])
                    synset_cnt = int(f[2])
                    offsets = f[4 + p_cnt + 2:]
                    idx[f[0]] = [int(o) for o in offsets[:synset_cnt]]
            self._index = idx
        return self._index

    @property
    def exceptions(self) -> dict[str, list[str]]:
        if self._exc is None:
            exc: dict[str, list[str]] = {}
            path = self.root / "noun.exc"
            if path.is_file():
                for line in path.read_text(encoding="utf-8").splitlines():
                    f = line.split()
                    if len(f) >= 2:
                        exc.setdefault(f[0], []).extend(f[1:])
            self._exc = exc
        return self._exc

    def base_forms(self, word: str) -> list[str]:
        """WordNet's morphy for nouns: the word itself, its irregular base forms, then the
        regular suffix rules; only forms present in the index are returned, in that order."""
        w = "_".join(word.lower().split())
        cands = [w, *self.exceptions.get(w, [])]
        cands += [w[: -len(suf)] + rep for suf, rep in NOUN_SUFFIX_RULES if w.endswith(suf) and len(w) > len(suf)]
        out: list[str] = []
        for c in cands:
            if c in self.index and c not in out:
                out.append(c)
        return out

    @lru_cache(maxsize=None)
    def synset(self, offset: int) -> Synset:
        with open(self.root / "data.noun", "rb") as fh:
            fh.seek(offset)
            return parse_data_line(fh.readline().decode("utf-8"))

    def synsets(self, word: str) -> list[Synset]:
        forms = self.base_forms(word)
        return [self.synset(o) for o in self.index[forms[0]]] if forms else []

    def chain(self, ss: Synset, limit: int = 20) -> list[Synset]:
        """Hypernym chain following the first hypernym pointer up to the root (exclusive of ss)."""
        out: list[Synset] = []
        seen = {ss.offset}
        while ss.hypernyms and len(out) < limit:
            ss = self.synset(ss.hypernyms[0])
            if ss.offset in seen:
                break
            seen.add(ss.offset)
            out.append(ss)
        return out

    def lookup(self, phrase: str, head_noun: bool = True) -> WordInfo | None:
        """First-sense facts for a concept phrase: the phrase itself when WordNet has it
        ('ice cream'), else its head noun ('red apple' -> 'apple', 'flag of france' -> 'flag').
        ``head_noun=False`` disables that fallback: for emoji names the head is often misleading
        ('dog face' -> 'face' -> 'body part')."""
        words = phrase.lower().split()
        if not words:
            return None
        # English noun phrases end with their head ('red apple'), except before a preposition
        # ('flag of france', 'bowl with spoon').
        pre = next((i for i, w in enumerate(words) if w in ("of", "with", "for", "in", "on") and i > 0), len(words))
        head = words[pre - 1]
        for exact, query in ((True, " ".join(words)), (False, head)):
            if not exact and (len(words) == 1 or not head_noun):
                break
            forms = self.base_forms(query)
            if not forms:
                continue
            ss = self.synset(self.index[forms[0]][0])
            lemma = forms[0].replace("_", " ")
            anc = self.chain(ss)
            hyps = [self.synset(h).words[0] for h in ss.hypernyms if self.synset(h).words]
            # The most general broad category on the chain: 'animal' rather than 'mammal' for a
            # cat (the immediate hypernym already gives the specific term).
            category = next((w for a in reversed(anc) for w in a.words if w in BASIC_CATEGORIES), None)
            syns = [w for w in ss.words if w != lemma] if exact else []
            return WordInfo(phrase, lemma, exact, syns, hyps, category, ss.gloss)
        return None


def a_an(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def wordnet_captions(info: WordInfo, max_synonyms: int = 2) -> list[str]:
    """Extra captions from WordNet facts: 'a kitty' (synonyms, exact matches only), 'a young
    mammal' (immediate hypernym), 'an animal' (broad category), each once."""
    out: list[str] = []
    for w in [*info.synonyms[:max_synonyms], *info.hypernyms[:1], *([info.category] if info.category else [])]:
        cap = a_an(w)
        if w != info.lemma and cap not in out:
            out.append(cap)
    return out
