r"""Order-independent fingerprints of the rows an engine scans, computed in the engine.

The in-memory path digests each input with SHA-256 in row order; an engine has no row order
(files of a glob, partitions of a Spark DataFrame), so it digests a multiset instead: for
every column used, the sum modulo 2**64 of the first 64 bits (16 hex digits, big-endian) of
the MD5 of each row's value as text (NULL as the text ``"\x00"``), plus the same sum over the
row's values joined by ``"\x1f"`` (``"row_digest"``: it changes when values are re-paired across
rows). Sums, not xor: a row that occurs twice counts twice. The digests are deterministic
and equal for any order or partitioning of the same rows; they are MD5 sums, not a
cryptographic commitment. Values are hashed as the engine writes them as text, which is the
same in DuckDB and Spark for integers, text and booleans (floating-point numbers are written
differently), so compare fingerprints computed by one engine.
"""

from __future__ import annotations

from typing import Any

from fairaudit.metrics._engines._columns import Columns

__all__ = [
    "ALGORITHM",
    "digest_columns",
    "duckdb_fingerprint_sql",
    "fingerprints_from",
    "spark_fingerprint_row",
]

ALGORITHM = "md5-sum64"
_MOD = 2**64
_NULL = "\x00"
_SEP = "\x1f"


def digest_columns(columns: Columns) -> list[tuple[str, str]]:
    """(key in the fingerprint, column name) for every column used, in a fixed order."""
    out = [("y_true", columns.y_true), ("y_pred", columns.y_pred)]
    if columns.y_score is not None:
        out.append(("y_score", columns.y_score))
    out.extend((f"sensitive_features.{s}", s) for s in columns.sensitive)
    if columns.sample_weight is not None:
        out.append(("sample_weight", columns.sample_weight))
    return out


def duckdb_fingerprint_sql(columns: Columns, quote: Any) -> str:
    """One aggregate query over ``fa_src``: the row count and each digest (as text)."""
    texts = [
        f"coalesce(CAST({quote(name)} AS VARCHAR), chr(0))" for _, name in digest_columns(columns)
    ]

    def h(expr: str) -> str:
        return f"CAST(sum(CAST('0x' || substr(md5({expr}), 1, 16) AS UBIGINT)) AS VARCHAR)"

    parts = [f"{h(t)} AS fa_d{i}" for i, t in enumerate(texts)]
    joined = "concat_ws(chr(31), " + ", ".join(texts) + ")"
    parts.append(f"{h(joined)} AS fa_rows")
    return "SELECT count(*) AS fa_n, " + ", ".join(parts) + " FROM fa_src"


def spark_fingerprint_row(df: Any, F: Any, columns: Columns) -> dict[str, Any]:
    """Compute the digests of :func:`duckdb_fingerprint_sql` by one Spark aggregation."""
    texts = [
        F.coalesce(F.col(name).cast("string"), F.lit(_NULL)) for _, name in digest_columns(columns)
    ]

    def h(expr: Any) -> Any:
        top = F.conv(F.substring(F.md5(expr), 1, 16), 16, 10).cast("decimal(20,0)")
        return F.sum(top).cast("string")

    aggs = [F.count(F.lit(1)).alias("fa_n")]
    aggs += [h(t).alias(f"fa_d{i}") for i, t in enumerate(texts)]
    aggs.append(h(F.concat_ws(_SEP, *texts)).alias("fa_rows"))
    row = df.agg(*aggs).collect()[0]
    return row.asDict()


def fingerprints_from(res: dict[str, Any], columns: Columns, engine: str) -> dict[str, Any]:
    """Format the digests of one aggregate row as ``provenance["fingerprints"]`` does."""

    def hexdigest(value: Any) -> str | None:
        if value is None:  # no rows
            return None
        return format(int(str(value)) % _MOD, "016x")

    out: dict[str, Any] = {
        "algorithm": ALGORITHM,
        "engine": engine,
        "order_independent": True,
        "rows": int(res["fa_n"]),
        "y_score": None,
        "sample_weight": None,
        "sensitive_features": {},
    }
    for i, (key, _name) in enumerate(digest_columns(columns)):
        value = hexdigest(res[f"fa_d{i}"])
        if key.startswith("sensitive_features."):
            out["sensitive_features"][key.split(".", 1)[1]] = value
        else:
            out[key] = value
    out["row_digest"] = hexdigest(res["fa_rows"])
    return out
