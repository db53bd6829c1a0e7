"""Normalize SQL so that one query run with different values groups under one fingerprint.

:func:`normalize` replaces constants (numbers, strings, dollar-quoted strings, bind parameters
``$n``) by ``?``, drops comments, collapses ``IN (?, ?, ...)``, ``VALUES (...), (...)`` and
``ARRAY[...]`` lists to one ``...`` element, folds case outside quoted identifiers (Postgres folds
unquoted identifiers and keywords anyway), collapses whitespace (also around parentheses and
commas) and drops a trailing semicolon. :func:`fingerprint` is a short stable hash of that text.
:func:`mask` keeps a statement's own layout but replaces its constants by ``?`` (for examples).

A regex lexer, not a SQL parser: quoted identifiers, strings and comments are recognised
before anything else, so a ``--`` or a digit inside a string is never mistaken for a comment or a
number. Identifiers such as ``t1`` or ``col_2`` keep their digits.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

CACHE_ENTRIES = 4096  # per cache (raw statements; statements after constant removal)
CACHE_MAX_CHARS = 2048  # longer statements are not cached: at most a few tens of MB in all

_LEXEMES = re.compile(
    r"""
      (?=[-'"$/0-9.]|[eEbBxXnN]'|[uU]&')                       # cheap first-characters filter
      (?:
      (?P<qid>"(?:[^"]|"")*")                                  # quoted identifier: kept as is
    | (?P<str>(?<![\w$])[eE]'(?:[^'\\]|''|\\.)*'?      # E'' string (backslash escapes)
        | (?:(?<![\w$])(?:[bBxXnN]|[uU]&))?'(?:[^']|'')*'?)  # other string constants
    | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*)?\$.*?(?:\$(?P=tag)\$|\Z))  # dollar-quoted
    | (?P<line>--[^\n]*)                                       # comments
    | (?P<block>/\*.*?(?:\*/|\Z))
    | (?P<param>\$\d+)                                         # bind parameter
    | (?P<num>(?<![\w$.])(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w$]))  # numeric constant
      )
    """,
    re.S | re.X,
)
# Text without quotes, comments or dollar quoting (a `$` not followed by a digit) can hold no
# lexeme but parameters and numbers: _NUMBERS then replaces exactly what _LEXEMES would, faster.
# Both patterns are written so that the regex engine can skip ahead to their first characters.
_NEEDS_LEXER = re.compile(r"""'|"|--|/\*|\$(?!\d)""")
_NUMBERS = re.compile(r"(?=[$0-9.])(?:\$\d+|(?<![\w$.])(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w$]))")
# _NUMBERS only tests character classes, and every ASCII digit is in the same ones: texts that differ
# only in their digits have the same spans replaced. When no digit is left after the replacement,
# they also have the same result, so the hot path looks texts up with their digits all made 0.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0000000000")
_DIGIT = re.compile(r"\d")
_WORD_OR_QID = re.compile(r'"(?:[^"]|"")*"|[^"]+')
_SPACE = re.compile(r"\s+")
_PUNCT = (
    ("( ", "("), (" (", "("), ("[ ", "["), (" [", "["), (" )", ")"), (" ]", "]"), (" ,", ","), (", ", ",")
)
_AFTER_CLOSE = re.compile(r"([)\]])(?=[\w\"?])")
_NEG = re.compile(
    r"([-+*/<>=~!@#%^&|(,\[]|\b(?:and|or|then|else|when|between|select|values|in|return)) ?- ?\?"
)
_OP = re.compile(r" ?([-+*/<>=~!@#%^&|]+) ?")
_LIST = re.compile(r"\(\?(?:,\?)+\)|(?<=\bin)\(\?\)")
# Keywords keep a space before a parenthesis (`in (...)`, `values (...)`, `exists (select`); function
# calls do not (`count(*)`), as people write them.
_KEYWORD_PAREN = re.compile(
    r"\b(in|values|where|and|or|not|on|as|from|join|using|select|then|else|when|exists|returning|over|"
    r"filter|set|into|by|with|lateral|union|all)\("
)
_ARRAY = re.compile(r"(?<=\barray)\[\?(?:,\?)*\]")
_ROWS = re.compile(r"\((?:\.\.\.|\?)\)(?:,\((?:\.\.\.|\?)\))+|\(\.\.\.\)(?:,\(\.\.\.\))+")
_VALUES_ROWS = re.compile(r"values\((?:[^()]|\([^()]*\))*\)(?:,\((?:[^()]|\([^()]*\))*\))+")


def _lexeme(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "qid":
        return match.group()
    if kind in ("line", "block"):
        return " "
    return "?"


def _fold(text: str) -> str:
    if '"' not in text:
        return text.lower()
    return _WORD_OR_QID.sub(lambda m: m.group() if m.group().startswith('"') else m.group().lower(), text)


def _values_rows(match: re.Match[str]) -> str:
    text = match.group()
    first = text[text.index("("):]
    depth = 0
    for i, ch in enumerate(first):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return "values" + first[: i + 1]
    return text


def _lex(sql: str) -> str:
    """``sql`` with constants replaced by ``?``, comments by a space, quoted identifiers kept."""
    if _NEEDS_LEXER.search(sql) is None:
        return _NUMBERS.sub("?", sql)
    if '"' in sql or "--" in sql or "/*" in sql:
        return _LEXEMES.sub(_lexeme, sql)
    return _LEXEMES.sub("?", sql)  # every match is a constant: a plain replacement is exact


def normalize(sql: str) -> str:
    """The grouping text of ``sql`` (see the module docstring)."""
    return grouping(sql)[0]


def _shape(lexed: str) -> str:
    """The rest of :func:`normalize` after :func:`_lex`."""
    text = _fold(lexed)
    text = _SPACE.sub(" ", text).strip()
    text = _NEG.sub(r"\1 ?", text)
    text = _OP.sub(r" \1 ", text)
    for spaced, tight in _PUNCT:  # whitespace is single spaces by now: plain replaces are exact
        text = text.replace(spaced, tight)
    text = _AFTER_CLOSE.sub(r"\1 ", text)
    text = _LIST.sub("(...)", text)
    text = _ARRAY.sub("[...]", text)
    text = _ROWS.sub("(...)", text)
    if "values" in text:
        text = _VALUES_ROWS.sub(_values_rows, text)
    text = text.rstrip("; ")
    return _KEYWORD_PAREN.sub(r"\1 (", text).replace(",", ", ")


def fingerprint(normalized: str) -> str:
    """A 16-hex-digit id of a normalized statement, stable across runs and machines."""
    return hashlib.blake2b(normalized.encode(), digest_size=8).hexdigest()


def grouping(sql: str) -> tuple[str, str]:
    """``(normalize(sql), fingerprint(normalize(sql)))``, cached for short texts (the hot path)."""
    if len(sql) > CACHE_MAX_CHARS:
        return _lexed_grouping(_lex(sql))
    # Whether a text needs the full lexer does not depend on its digits either: a digit shape in
    # _by_digit_shape never needs it, so a hit skips that test too.
    digit_shape = sql.encode().translate(_DIGITS_AS_ZERO)  # bytes: str.translate is far slower
    found = _by_digit_shape.get(digit_shape)
    if found is not None:
        return found
    if _NEEDS_LEXER.search(sql) is not None:
        return _cached_grouping(sql)  # strings, comments: cached by their exact text
    lexed = _NUMBERS.sub("?", sql)
    found = _cached_lexed_grouping(lexed)
    if _DIGIT.search(lexed) is None:
        if len(_by_digit_shape) >= CACHE_ENTRIES:
            del _by_digit_shape[next(iter(_by_digit_shape))]  # the oldest entry
        _by_digit_shape[digit_shape] = found
    return found


def _grouping(sql: str) -> tuple[str, str]:
    lexed = _lex(sql)
    if len(lexed) > CACHE_MAX_CHARS:
        return _lexed_grouping(lexed)
    return _cached_lexed_grouping(lexed)


def _lexed_grouping(lexed: str) -> tuple[str, str]:
    """The rest of :func:`grouping` after :func:`_lex` (a function of the lexed text alone)."""
    normalized = _shape(lexed)
    return normalized, fingerprint(normalized)


def _mask_lexeme(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind in ("qid", "param"):
        return match.group()
    if kind in ("line", "block"):
        return ""
    return "?"


def mask(sql: str) -> str:
    """``sql`` with its constants replaced by ``?`` and comments removed; layout otherwise kept."""
    return _LEXEMES.sub(_mask_lexeme, sql).strip()


# Hot-path caches, bounded in entries and in the length of the texts they keep (longer statements
# are normalized without caching). Most statements differ from others only in their constants:
# without quotes or comments, _by_digit_shape finds them without running a regex over them;
# otherwise _cached_grouping catches verbatim repeats (`$n` parameters). After _lex they are few
# distinct texts, so _cached_lexed_grouping spares most of the regex passes of _shape.
_by_digit_shape: dict[bytes, tuple[str, str]] = {}
_cached_grouping = lru_cache(maxsize=CACHE_ENTRIES)(_grouping)
_cached_lexed_grouping = lru_cache(maxsize=CACHE_ENTRIES)(_lexed_grouping)
