"""From the store's per-group cells to count tables and GroupMetrics.

The one place where the monitor turns its integer cells (TN, FP, FN, TP per group) into the
metrics layer's public objects: a :class:`fairaudit.metrics.CountTable`, which
:func:`fairaudit.metrics.group_metrics` consumes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fairaudit.metrics import CountTable, GroupMetrics, group_metrics
from fairaudit.monitor._scores import RawAtoms, labelled_atoms

__all__ = ["cells_to_table", "table_group_metrics"]


def cells_to_table(
    cells: np.ndarray,
    keys: list[tuple[str, ...]],
    feature_names: tuple[str, ...],
    *,
    pos_label: Any = 1,
    atoms: RawAtoms | None = None,
) -> CountTable:
    """Build a binary count table from (G, 4) integer cells and the groups' values.

    Groups without rows are dropped; groups are sorted by their labels. ``atoms`` (score
    atoms whose groups are positions in ``keys``) gives the table the score atoms of their
    labelled rows (possibly none).
    """
    cells = np.asarray(cells, dtype=np.int64).reshape(-1, 4)
    keep = np.flatnonzero(cells.sum(axis=1) > 0)
    kept_keys = [keys[i] for i in keep]
    order = sorted(range(len(kept_keys)), key=lambda i: kept_keys[i])
    kept_keys = [kept_keys[i] for i in order]
    scores = None
    if atoms is not None:
        mapping = np.full(len(keys), -1, dtype=np.intp)
        mapping[keep[order]] = np.arange(len(kept_keys))
        scores = labelled_atoms(atoms, mapping, len(kept_keys))
    cells = cells[keep[order]] if keep.size else cells[:0]
    n_features = len(feature_names)
    levels = []
    codes = np.zeros((len(kept_keys), n_features), dtype=np.intp)
    for j in range(n_features):
        values = sorted({k[j] for k in kept_keys})
        lookup = {v: i for i, v in enumerate(values)}
        codes[:, j] = [lookup[k[j]] for k in kept_keys]
        levels.append(pd.Index(values, dtype=object, name=feature_names[j]))
    if n_features == 1:
        index: pd.Index = pd.Index([k[0] for k in kept_keys], dtype=object, name=feature_names[0])
    else:
        index = pd.MultiIndex(
            levels=levels,  # type: ignore[arg-type]
            codes=[list(codes[:, j]) for j in range(n_features)],
            names=list(feature_names),
        )
    return CountTable(
        task="binary",
        index=index,
        feature_names=tuple(feature_names),
        feature_codes=codes,
        feature_levels=tuple(levels),
        cells=cells.astype(np.float64),
        cell_n=cells,
        cell_w2=None,
        scores=scores,
        pos_label=pos_label,
    )


def table_group_metrics(
    table: CountTable,
    *,
    metrics: tuple[str, ...],
    pos_label: Any,
    confidence: float,
    n_boot: int,
    random_state: Any,
    min_group_size: int,
    reference_group: Any = None,
) -> GroupMetrics:
    """GroupMetrics of a binary count table: Wilson intervals, or bootstrap ones."""
    del pos_label  # the table carries it
    gm = group_metrics(
        table,
        metrics=list(metrics),
        n_boot=int(n_boot),
        ci_method="bootstrap" if n_boot > 0 else "wilson",
        confidence=float(confidence),
        random_state=random_state,
        min_group_size=int(min_group_size),
        reference_group=reference_group,
    )
    gm.provenance["parameters"]["source"] = "fairaudit.monitor"
    return gm
