"""Reading policy YAML safely: no duplicate keys, YAML 1.2 floats, bounded size and aliases.

``yaml.safe_load`` alone has three traps for a file that gates releases:

- a repeated key (two ``rules:`` blocks) silently keeps the last one, so half a policy can
  vanish without a word;
- PyYAML follows YAML 1.1, where ``8e-1`` (no dot, no exponent sign) is a string, not a float;
- aliases are shared, not copied, so a few hundred bytes of nested aliases ("billion laughs")
  stand for billions of nodes, which explode when the data is walked or printed in an error.

:func:`load_policy_yaml` refuses repeated keys at any level, reads YAML 1.2 floats, refuses
a file larger than :data:`MAX_POLICY_BYTES`, and counts the nodes the document stands for
(each alias counted as a full copy of what it points to) before building any Python object,
refusing more than :data:`MAX_POLICY_NODES` or a recursive alias.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_POLICY_BYTES", "MAX_POLICY_NODES", "load_policy_yaml"]

# A policy is a few rules of a few keys; these bounds are far above any real one.
MAX_POLICY_BYTES = 1 << 20
MAX_POLICY_NODES = 100_000

# YAML 1.2 core schema floats (PyYAML's 1.1 resolver needs a dot and a signed exponent)
_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT_12 = re.compile(r"^[-+]?[0-9]+$")

_LOADERS: dict[int, Any] = {}


class PolicyYAMLError(ValueError):
    """The YAML text is unsafe or ambiguous (raised before the policy is validated)."""


def _loader_class(yaml: Any) -> Any:
    """Return a SafeLoader subclass with the checks above (built once per yaml module)."""
    cached = _LOADERS.get(id(yaml))
    if cached is not None:
        return cached

    class PolicyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # '<<: *defaults' merges keys that the mapping may override
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: SafeConstructor refuses it itself
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"found the key {_short(key)} a second time (first at line "
                        f"{first.line + 1}); a repeated key would silently replace the first "
                        "one. Merge the two blocks into one",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark
            return super().construct_mapping(node, deep=deep)

    # YAML 1.2 floats, on a copy of the resolver table (the base class's is shared)
    PolicyLoader.yaml_implicit_resolvers = {
        first: list(resolvers)
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    PolicyLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))
    _LOADERS[id(yaml)] = PolicyLoader
    return PolicyLoader


def _short(value: Any, limit: int = 60) -> str:
    import reprlib

    shown = reprlib.Repr()
    shown.maxstring = shown.maxother = limit
    shown.maxlevel, shown.maxlist, shown.maxdict = 2, 4, 4
    return shown.repr(value)


def _expanded_size(yaml: Any, root: Any) -> int:
    """Nodes the document stands for, aliases expanded; stops past the bound or on a cycle."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # iterative post-order walk: (node, children visited?)
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1
            for child in _children(yaml, node):
                total += sizes[id(child)]
                if total > MAX_POLICY_NODES:
                    break
            sizes[key] = total
            if total > MAX_POLICY_NODES:
                return total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise PolicyYAMLError(
                f"a recursive alias (an anchor used inside itself) at line "
                f"{node.start_mark.line + 1}; a policy cannot refer to itself."
            )
        on_path.add(key)
        stack.append((node, True))
        for child in _children(yaml, node):
            if id(child) not in sizes:
                if id(child) in on_path:
                    raise PolicyYAMLError(
                        f"a recursive alias (an anchor used inside itself) at line "
                        f"{child.start_mark.line + 1}; a policy cannot refer to itself."
                    )
                stack.append((child, False))
    return sizes[id(root)]


def _children(yaml: Any, node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_policy_yaml(yaml: Any, text: str) -> Any:
    r"""Parse policy YAML text with the checks of this module.

    Parameters
    ----------
    yaml : module
        The ``yaml`` module (imported lazily by the caller).
    text : str
        The YAML text.

    Returns
    -------
    object
        The parsed document (None when empty).

    Raises
    ------
    yaml.YAMLError
        Invalid YAML, or a repeated key (with both line numbers).
    PolicyYAMLError
        A file too large, too many nodes once aliases are expanded, or a recursive alias.

    Examples
    --------
    >>> import yaml
    >>> load_policy_yaml(yaml, "min: 8e-1\nmax: 1E0")
    {'min': 0.8, 'max': 1.0}
    >>> load_policy_yaml(yaml, "rules: []\nrules: [1]")
    Traceback (most recent call last):
    ...
    yaml.constructor.ConstructorError: while reading a mapping
    ...found the key 'rules' a second time (first at line 1)...
    """
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_POLICY_BYTES:
        raise PolicyYAMLError(
            f"the file holds {size:,} bytes; a policy is at most {MAX_POLICY_BYTES:,} "
            "(a few rules of a few keys)."
        )
    loader = _loader_class(yaml)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        nodes = _expanded_size(yaml, node)
        if nodes > MAX_POLICY_NODES:
            raise PolicyYAMLError(
                f"the document stands for more than {MAX_POLICY_NODES:,} values once its "
                "aliases (*name) are expanded; a policy needs a few hundred. Aliases that nest "
                "aliases multiply (a 'billion laughs' file): write the rules out."
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()
