"""Normalize SQL so that one query run with different values groups under one fingerprint.

:func:`normalize` replaces constants (numbers, strings, dollar-quoted strings, bind parameters
``$n``) by ``?``, drops comments, collapses ``IN (?, ?, ...)``, ``VALUES (...), (...)`` and
``ARRAY[...]`` lists to one ``...`` element, folds case outside quoted identifiers (Postgres folds
unquoted identifiers and keywords anyway), collapses whitespace (also around parentheses and
commas) and drops a trailing semicolon. :func:`fingerprint` is a short stable hash of that text.
:func:`mask` keeps a statement's own layout but replaces its constants by ``?`` (for examples).

A regex lexer, not a SQL parser, that lexes as PostgreSQL does: quoted identifiers, strings
(``E''``, ``U&''``, continued over a newline), dollar quotes (``$$...$$`` and ``$tag$...$tag$``)
and comments are recognised before anything else, so a ``--`` or a digit inside a string is never
mistaken for a comment or a number; block comments nest (``/* a /* b */ c */`` is one comment);
numbers take PostgreSQL 16's forms (``0x1F``, ``0o17``, ``0b101``, ``1_000``). Identifiers such as
``t1``, ``col_2`` or ``col$1`` keep their digits. The tests check the grouping against pglast's
fingerprint (PostgreSQL's own parser) on a generated corpus and on a real pgbench workload.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import lru_cache

CACHE_ENTRIES = 4096  # per cache (raw statements; statements after constant removal)
CACHE_MAX_CHARS = 2048  # longer statements are not cached: at most a few tens of MB in all

# Numeric constants as PostgreSQL 16+ lexes them (underscores, hex/octal/binary), never inside an
# identifier. The radix prefix takes any digit, not only 0: every ASCII digit must stay in the same
# character classes (see _DIGITS_AS_ZERO); `1x1F` is a syntax error for PostgreSQL anyway.
_NUMBER = (
    r"(?<![\w$.])(?:\d[xX](?:_?[0-9a-fA-F])+|\d[oObB](?:_?\d)+"
    r"|(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][-+]?\d+)?)(?![\w$])"
)
_PARAM = r"(?<![\w$])\$\d+"  # `$1`, but `col$1` is an identifier (`$` continues identifiers)
# An identifier character for PostgreSQL's lexer: ASCII letters, digits, `_` and every non-ASCII one.
_TAG = r"(?:[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9\x80-\U0010ffff]*)?"
# String bodies, unrolled (`[^']*+` runs, then one `''` or escape at a time): the regex engine then
# keeps no state per character, which an alternation under `*` does (megabytes per megabyte).
_BODY = r"[^']*+(?:''[^']*+)*+"
_E_BODY = r"[^'\\]*+(?:(?:''|\\.)[^'\\]*+)*+"
# A newline between two string constants joins them into one (SQL's string continuation).
_JOINED = r"(?:[ \t\f\r]*\n\s*'" + _BODY + "'?)*"
_LEXEMES = re.compile(
    r"""
      (?=[-'"$/0-9.]|[eEbBxXnN]'|[uU]&')                       # cheap first-characters filter
      (?:
      (?P<qid>"[^"]*+(?:""[^"]*+)*+")                          # quoted identifier: kept as is
    | (?P<str>(?<![\w$])[eE]'"""
    + _E_BODY
    + r"""'?(?:[ \t\f\r]*\n\s*'"""
    + _E_BODY
    + r"""'?)*                                                 # E'' string
        | (?:(?<![\w$])(?:[bBxXnN]|[uU]&))?'"""
    + _BODY
    + r"""'?"""
    + _JOINED
    + r""")                                                    # other string constants
    | (?P<dollar>(?<![\w$])\$(?P<tag>"""
    + _TAG
    + r""")\$.*?(?:\$(?P=tag)\$|\Z))                           # dollar-quoted, tagged or not
    | (?P<line>--[^\n]*)                                       # comments; a block comment nests:
    | (?P<block>/\*)                                           # only its start (see _comment_end)
    | (?P<param>"""
    + _PARAM
    + r""")                                                    # bind parameter
    | (?P<num>"""
    + _NUMBER
    + r""")                                                    # numeric constant
      )
    """,
    re.S | re.X,
)
_COMMENT_MARKS = re.compile(r"/\*|\*/")
# Text without quotes, comments or dollar quoting (a `$` not followed by a digit) can hold no
# lexeme but parameters and numbers: _NUMBERS then replaces exactly what _LEXEMES would, faster.
# Both patterns are written so that the regex engine can skip ahead to their first characters.
_NEEDS_LEXER = re.compile(r"""'|"|--|/\*|\$(?!\d)""")
_NUMBERS = re.compile(r"(?=[$0-9.])(?:" + _PARAM + "|" + _NUMBER + ")")
# _NUMBERS only tests character classes, and every ASCII digit is in the same ones: texts that differ
# only in their digits have the same spans replaced. When no digit is left after the replacement,
# they also have the same result, so the hot path looks texts up with their digits all made 0.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0000000000")
_DIGIT = re.compile(r"\d")
_WORD_OR_QID = re.compile(r'"[^"]*+(?:""[^"]*+)*+"|[^"]+')
_SPACE = re.compile(r"\s+")
_PUNCT = (
    ("( ", "("), (" (", "("), ("[ ", "["), (" [", "["), (" )", ")"), (" ]", "]"), (" ,", ","), (", ", ",")
)
_AFTER_CLOSE = re.compile(r"([)\]])(?=[\w\"?])")
_NEG = re.compile(
    r"([-+*/<>=~!@#%^&|(,\[]|\b(?:and|or|not|then|else|when|case|between|select|values|in|return|like|ilike"
    r"|similar|to|escape|where|having|on|limit|offset|by|any|all|some|distinct)) ?- ?\?"
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
_ROW = r"\([^()]*+(?:\([^()]*+\)[^()]*+)*+\)"  # (...) holding at most one level of (...)
_VALUES_ROWS = re.compile(r"values" + _ROW + r"(?:," + _ROW + r")+")

# What each kind of lexeme becomes (None: kept as it is; any other kind becomes `?`).
Replacements = dict[str, str | None]
_NORMALIZED: Replacements = {"qid": None, "line": " ", "block": " "}
_MASKED: Replacements = {"qid": None, "param": None, "line": "", "block": ""}


def _replacer(table: Replacements) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        text = table.get(match.lastgroup or "", "?")
        return match.group() if text is None else text

    return replace


_lexeme = _replacer(_NORMALIZED)
_mask_lexeme = _replacer(_MASKED)


def _comment_end(sql: str, start: int) -> int:
    """The end of the block comment opened at ``start``: block comments nest, as in PostgreSQL."""
    depth = 0
    for mark in _COMMENT_MARKS.finditer(sql, start):
        depth += 1 if mark.group() == "/*" else -1
        if depth == 0:
            return mark.end()
    return len(sql)  # unterminated: the rest is comment


def _substitute(sql: str, table: Replacements, replace: Callable[[re.Match[str]], str]) -> str:
    """Every lexeme of ``sql`` replaced as ``table`` says; ``replace`` is :func:`_replacer` of it."""
    if "/*" not in sql:
        return _LEXEMES.sub(replace, sql)
    parts: list[str] = []
    pos = 0
    search = _LEXEMES.search
    while (match := search(sql, pos)) is not None:
        start = match.start()
        if match.lastgroup == "block":  # a regex cannot count nesting: find its end by hand
            end, text = _comment_end(sql, start), table["block"] or ""
        else:
            end, text = match.end(), replace(match)
        parts += (sql[pos:start], text)
        pos = end
    parts.append(sql[pos:])
    return "".join(parts)


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
        return _substitute(sql, _NORMALIZED, _lexeme)
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


def mask(sql: str) -> str:
    """``sql`` with its constants replaced by ``?`` and comments removed; layout otherwise kept."""
    return _substitute(sql, _MASKED, _mask_lexeme).strip()


# Hot-path caches, bounded in entries and in the length of the texts they keep (longer statements
# are normalized without caching). Most statements differ from others only in their constants:
# without quotes or comments, _by_digit_shape finds them without running a regex over them;
# otherwise _cached_grouping catches verbatim repeats (`$n` parameters). After _lex they are few
# distinct texts, so _cached_lexed_grouping spares most of the regex passes of _shape.
_by_digit_shape: dict[bytes, tuple[str, str]] = {}
_cached_grouping = lru_cache(maxsize=CACHE_ENTRIES)(_grouping)
_cached_lexed_grouping = lru_cache(maxsize=CACHE_ENTRIES)(_lexed_grouping)
