"""Fingerprints: one query with different values, layout or case groups together; others don't."""

from __future__ import annotations

import pytest

from herokupg.slowlog.fingerprint import (
    _LEXEMES,
    _NEEDS_LEXER,
    _NUMBERS,
    _lex,
    _lexeme,
    fingerprint,
    mask,
    normalize,
)
from herokupg.slowlog.workload import statements

SAME = [
    ["SELECT * FROM users WHERE id = 42", "select *\n  from users\n where id=7;",
     "SELECT * FROM users WHERE id = $1", "SELECT * FROM users -- who\nWHERE id = /* the id */ -5"],
    ["SELECT count(*) FROM events WHERE kind IN (1, 2, 3)", "select count(*) from events where kind in (9)",
     "SELECT count(*) FROM events WHERE kind IN ($1,$2,$3,$4)",
     "SELECT count( * ) FROM events WHERE kind IN ('a','b')"],
    ["INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y''s')", "insert into t(a,b) values (3,'z')",
     "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6)"],
    ["SELECT a FROM t WHERE s = E'it\\'s' AND d = $tag$x; -- y$tag$",
     "SELECT a FROM t WHERE s = 'q' AND d = $$z$$"],
    ["SELECT 1.5e3, .5, 10", "select 2, 3.25, 1e-9"],
    ["SELECT * FROM t WHERE a = ANY(ARRAY[1,2,3])", "SELECT * FROM t WHERE a = ANY(ARRAY[4])"],
]
DIFFERENT = [
    "SELECT * FROM users WHERE id = 1",
    "SELECT * FROM users WHERE email = 'a'",
    'SELECT * FROM "Users" WHERE id = 1',  # quoted identifiers keep their case
    "SELECT * FROM users2 WHERE id = 1",  # digits of identifiers are kept
    "SELECT * FROM users WHERE id = 1 -- x\nAND deleted",
    "SELECT '--' FROM users WHERE id = 1 AND deleted",  # a string, not a comment
]


@pytest.mark.parametrize("group", SAME)
def test_same_query_with_other_values_groups_together(group: list[str]) -> None:
    assert len({normalize(sql) for sql in group}) == 1, [normalize(sql) for sql in group]
    assert len({fingerprint(normalize(sql)) for sql in group}) == 1


def test_different_queries_stay_apart() -> None:
    assert len({fingerprint(normalize(sql)) for sql in DIFFERENT}) == len(DIFFERENT)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM users WHERE id = 42", "select * from users where id = ?"),
        ("select count(*) from events where kind in (1,2)",
         "select count(*) from events where kind in (...)"),
        ("INSERT INTO t (a, b) VALUES (1, now()), (2, now())", "insert into t(a, b) values (?, now())"),
        ("SELECT 1 WHERE EXISTS(SELECT 1) AND x IN(SELECT y)",
         "select ? where exists (select ?) and x in (select y)"),
        ('SELECT "Foo".x FROM "Foo" WHERE y > -3;', 'select "Foo".x from "Foo" where y > ?'),
    ],
)
def test_normalized_text(sql: str, expected: str) -> None:
    assert normalize(sql) == expected


def test_fingerprint_is_stable_and_short() -> None:
    assert fingerprint("select ?") == fingerprint("select ?")
    assert len(fingerprint("select ?")) == 16 and int(fingerprint("select ?"), 16) >= 0


def test_mask_keeps_layout_but_hides_constants() -> None:
    sql = "SELECT *\n  FROM users -- secret 123\n WHERE email = 'bob@example.com' AND id = 42 AND x = $1"
    assert mask(sql) == "SELECT *\n  FROM users \n WHERE email = ? AND id = ? AND x = $1"
    assert "bob" not in mask(sql) and "secret" not in mask(sql)


NUMBERS_ONLY = [
    "SELECT * FROM t1 WHERE a = $1 AND b = 2.5 AND c IN (1, 2, 3)",
    "SELECT x.col_2, 1e-9, .5, 3., 10e+3 FROM x WHERE x.id > -7",
    "SELECT a1b2 FROM c3 WHERE d4 = 5 AND e = ARRAY[6,7]::int[] LIMIT 8 OFFSET 9",
    "UPDATE t SET n = n + 1, f = 2.0 / 3 WHERE id = $12",
    "SELECT $1::int, $2 + 1 FROM generate_series(1, 10) g",
]


@pytest.mark.parametrize("sql", NUMBERS_ONLY + [s.sql for s in statements(300)])
def test_fast_lexer_path_replaces_exactly_what_the_full_lexer_does(sql: str) -> None:
    # Text without quotes, comments or dollar quoting takes the numbers-only pattern: same result.
    full = _LEXEMES.sub(_lexeme, sql)
    assert _lex(sql) == full
    if _NEEDS_LEXER.search(sql) is None:
        assert _NUMBERS.sub("?", sql) == full
