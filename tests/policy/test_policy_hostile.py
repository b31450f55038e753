"""Policy files that used to be read wrongly, or that hurt: each refused with a clear message."""

from __future__ import annotations

import time

import pytest

import fairaudit as fa
from fairaudit.exceptions import PolicyError

pytest.importorskip("yaml")

RULE = "  - {metric: selection_rate, compare: ratio, min: 0.8}\n"


def load(text):
    return fa.Policy.from_yaml_text(text)


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        (
            "version: 1\nrules:\n" + RULE + "rules:\n  - {metric: accuracy, min: 0.1}\n",
            "rules",
            (2, 4),
        ),
        ("version: 1\nversion: 1\nrules:\n" + RULE, "version", (1, 2)),
        ("version: 1\nrules:\n  - {metric: selection_rate, min: 0.8, min: 0.9}\n", "min", (3, 3)),
        (
            "version: 1\ndefaults:\n  judge: interval\n  judge: estimate\nrules:\n" + RULE,
            "judge",
            (3, 4),
        ),
        (
            "version: 1\nrules:\n  - metric: selection_rate\n    min: 0.8\n    metric: accuracy\n",
            "metric",
            (3, 5),
        ),
    ],
    ids=["two rules blocks", "top level", "in a flow mapping", "in defaults", "in a rule"],
)
def test_repeated_keys_are_refused_at_any_level(text, key, lines):
    with pytest.raises(PolicyError) as info:
        load(text)
    message = str(info.value)
    assert f"found the key {key!r} a second time (first at line {lines[0]})" in message
    assert f"line {lines[1]}" in message


def test_merge_keys_may_still_be_overridden():
    text = (
        "version: 1\ndefaults: &d {compare: ratio, judge: estimate}\nrules:\n"
        "  - {<<: *d, metric: selection_rate, compare: difference, max: 0.1}\n"
    )
    assert load(text).rules[0].compare == "difference"


@pytest.mark.parametrize(
    ("written", "value"),
    [("8e-1", 0.8), ("8E-1", 0.8), ("1e0", 1.0), (".5", 0.5), ("+0.75", 0.75), ("7.5e-1", 0.75)],
)
def test_yaml_1_2_floats(written, value):
    rule = load(f"version: 1\nrules:\n  - {{metric: selection_rate, min: {written}}}\n").rules[0]
    assert rule.min == value


def test_integers_and_strings_keep_their_type():
    policy = load(
        "version: 1\nrules:\n  - {metric: selection_rate, compare: ratio, min: 0.8, reference_group: 1}\n"
    )
    assert policy.rules[0].reference_group == 1
    assert isinstance(policy.rules[0].reference_group, int)
    policy = load(
        "version: 1\nrules:\n  - {metric: selection_rate, compare: ratio, min: 0.8, reference_group: 1e5x}\n"
    )
    assert policy.rules[0].reference_group == "1e5x"


def billion_laughs():
    parts = ['&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        parts.append(f"&{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "version: 1\nname: [" + ", ".join(parts) + "]\nrules:\n" + RULE


def test_billion_laughs_is_refused_before_it_expands():
    text = billion_laughs()
    assert len(text.encode()) < 500  # 9 ** 9 = 387 million "lol"s once expanded
    start = time.process_time()
    with pytest.raises(PolicyError, match="more than 100,000 values once its aliases"):
        load(text)
    assert time.process_time() - start < 10  # a bound that only an expansion could break


def test_a_recursive_alias_is_refused():
    with pytest.raises(PolicyError, match="recursive alias"):
        load("version: 1\nname: &n [*n]\nrules:\n" + RULE)


def test_a_huge_file_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("version: 1\nrules:\n" + RULE + "# " + "x" * (2 << 20) + "\n")
    with pytest.raises(PolicyError, match="a policy is at most 1,048,576"):
        fa.Policy.from_yaml(path)


def test_messages_echo_a_bounded_part_of_the_file():
    with pytest.raises(PolicyError) as info:
        load(
            "version: 1\nname: [" + ", ".join(["'" + "y" * 5000 + "'"] * 200) + "]\nrules:\n" + RULE
        )
    assert "key 'name' must be a non-empty string" in str(info.value)
    assert len(str(info.value)) < 1_100  # the file is 1 MB


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "{metric: selection_rate, compare: ratio, max: -0.1}",
            "a ratio of metric values is never negative but 'max' is -0.1",
        ),
        ("{metric: selection_rate, compare: ratio, min: -0.1}", "never negative but 'min' is -0.1"),
        ("{metric: selection_rate, compare: ratio, min: 1.25}", "at most 1 but 'min' is 1.25"),
        (
            "{metric: selection_rate, compare: difference, max: -0.1}",
            "a difference between groups is never negative but 'max' is -0.1; write the size of the gap (e.g. max: 0.1)",
        ),
        (
            "{metric: selection_rate, compare: difference, min: -0.2}",
            "every difference passes it; remove it",
        ),
        (
            "{metric: true_positive_rate, compare: value, min: 80}",
            "true_positive_rate lies between 0 and 1 but 'min' is 80",
        ),
        (
            "{metric: accuracy, compare: value, max: -0.5}",
            "accuracy lies between 0 and 1 but 'max' is -0.5",
        ),
        ("{metric: equalized_odds, compare: difference, max: -0.05}", "never negative"),
    ],
)
def test_impossible_bounds_are_refused(rule, message):
    with pytest.raises(PolicyError, match="impossible rule") as info:
        load(f"version: 1\nrules:\n  - {rule}\n")
    assert message in str(info.value)


@pytest.mark.parametrize(
    "rule",
    [
        "{metric: selection_rate, compare: ratio, min: 1.1, reference_group: M}",  # vs a reference: can exceed 1
        "{metric: mean_prediction, compare: value, min: 80}",  # not a proportion
        "{metric: selection_rate, compare: ratio, min: 0, max: 1}",
        "{metric: selection_rate, compare: difference, min: 0, max: 0}",
    ],
)
def test_possible_bounds_are_kept(rule):
    assert load(f"version: 1\nrules:\n  - {rule}\n").rules
