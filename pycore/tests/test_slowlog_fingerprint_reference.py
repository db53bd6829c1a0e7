"""The normaliser against an independent reference: pglast's fingerprint (libpg_query, PostgreSQL's
own parser). On a generated corpus of tricky SQL, statements group together exactly when the
reference groups them: constants of every kind (dollar quotes tagged or not, E'' and U&'' strings,
string continuation, PostgreSQL 16 numbers), nested and line comments, layout and case.

Each family is one statement written many ways; the reference must see one statement per family
and a different one for each family (else the corpus is wrong), and so must we.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable

import pytest
from pglast.parser import fingerprint as reference

from herokupg.slowlog.fingerprint import grouping, mask, normalize

# {v}: a constant, {k}: a comment or nothing.
TEMPLATES = [
    "SELECT a, b FROM t WHERE id = {v}{k}",
    "SELECT {v} FROM t WHERE x = {v}",
    "SELECT {v} FROM u WHERE y = {v}",  # the issue's case: an untagged dollar quote kept t and u apart
    "SELECT *{k} FROM t WHERE name = {v} AND kind = {v}",
    "UPDATE accounts SET note = {v}, n = n + {v}{k} WHERE id = {v}",
    "INSERT INTO log (msg, at) VALUES ({v}, now())",
    'SELECT "Mixed Case".x FROM "Mixed Case" WHERE "Mixed Case".y = {v}',
    'SELECT "mixed case".x FROM "mixed case" WHERE "mixed case".y = {v}',
    "SELECT col$1 FROM t WHERE x = {v}",  # `$` inside an identifier: no parameter
    "SELECT col$2 FROM t WHERE x = {v}",
    "DELETE FROM t{k} WHERE s LIKE {v}",
    "SELECT count(*) FROM t WHERE a > {v} AND b < {v}",
    "SELECT count(*) FROM t WHERE a > {v} OR b < {v}",
    "SELECT x FROM t WHERE x = {v}{k} ORDER BY x",
    "SELECT lower({v}) FROM t GROUP BY 1",
    "SELECT upper({v}) FROM t GROUP BY 1",
    "SELECT {v} AS a, {v} AS b FROM t JOIN u ON u.id = t.id",
]

WORDS = ["it's", "--not a comment", "/* nor this */", "$$", "$x$", "a;b", "é ü", "\\n", "'", '"q"', "x"]


def constant(r: random.Random) -> str:
    word = r.choice(WORDS)
    tag = r.choice(["", "t", "_tag1", "é", "q$"[:1]])
    plain = "'" + word.replace("'", "''") + "'"
    options = [
        str(r.randint(0, 10**9)), f"-{r.randint(1, 999)}", f"{r.randint(0, 99)}.{r.randint(0, 99)}",
        f"{r.randint(1, 9)}e{r.randint(1, 9)}", f".{r.randint(1, 9)}", f"0x{r.randint(0, 4095):X}",
        f"{r.randint(1, 9)}_{r.randint(100, 999)}", "0o17", "0b101", plain,
        "E'" + word.replace("\\", "\\\\").replace("'", "\\'") + "'",
        plain + "\n   '" + r.choice(WORDS).replace("'", "''") + "'",  # string continuation
        f"${tag}${word}${tag}$" if "$" not in word else f"$z${word}$z$",
        "$a$ $$ inner $$ " + word.replace("$a$", "") + " $a$",
        "U&'d\\0061t\\+000061'", "X'1F'", "B'0101'",
    ]
    return r.choice(options)


COMMENTS = ["", " /* plain */ ", " /* outer /* nested 'q' */ still outer */ ", " -- line $$ 'x\n",
            " /* $$ not a dollar quote */ ", " /*/ odd start */ "]


def layout(r: random.Random, sql: str) -> str:
    if r.random() < 0.3:
        sql = sql.replace(" WHERE ", "\n  where ").replace("SELECT", "select")
    if r.random() < 0.3:
        sql = sql.replace(" = ", "=").replace(", ", ",\n\t")
    return sql + r.choice(["", ";", " ;", "\n"])


def family(template: str, r: random.Random, size: int) -> list[str]:
    def one() -> str:
        sql = template
        while "{v}" in sql or "{k}" in sql:
            sql = sql.replace("{v}", constant(r), 1).replace("{k}", r.choice(COMMENTS), 1)
        return layout(r, sql)

    return [one() for _ in range(size)]


def corpus(seed: int = 18, size: int = 24) -> list[list[str]]:
    r = random.Random(seed)
    return [family(template, r, size) for template in TEMPLATES]


def partition(sqls: Iterable[str], key: Callable[[str], str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for sql in sqls:
        groups[key(sql)].add(sql)
    return {frozenset(g) for g in groups.values()}


def ours(sql: str) -> str:
    return grouping(sql)[1]


def test_the_reference_sees_one_statement_per_family() -> None:
    families = corpus()
    fingerprints = [{reference(sql) for sql in fam} for fam in families]
    assert all(len(f) == 1 for f in fingerprints), [sorted(f) for f in fingerprints if len(f) > 1]
    assert len(set.union(*fingerprints)) == len(families)


def test_we_group_the_corpus_as_the_reference_does() -> None:
    sqls = [sql for fam in corpus() for sql in fam]
    mine, theirs = partition(sqls, ours), partition(sqls, reference)
    assert mine == theirs, [sorted(g)[:3] for g in mine ^ theirs][:6]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("select $$a$$ from t where x=1", "select $$a$$ from u where y=2"),
        ("select $q$a$q$ from t where x=1", "select $q$a$q$ from u where y=2"),
        ("select /* a /* b */ c */ x from t", "select /* a /* b */ c */ y from t"),
    ],
)
def test_issue_cases_stay_apart(a: str, b: str) -> None:
    assert reference(a) != reference(b)
    assert ours(a) != ours(b)


def test_nested_comment_leaks_nothing() -> None:
    assert normalize("select /* a /* b */ c */ 1") == "select ?"
    assert "c */" not in mask("select /* a /* b */ c */ 1")
    assert normalize("select $$a$$ from t where x=1") == "select ? from t where x = ?"
