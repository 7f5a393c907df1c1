"""The error tree drawn in ``fecflow.errors``' docstring is the tree of its classes."""

from __future__ import annotations

import re

from fecflow import errors

LINE = re.compile(r"^    (?P<indent>[ |`-]*?)(?P<name>[A-Z][A-Za-z]+)\s+(?P<exit>\d)\b")


def _drawn() -> dict[str, tuple[str | None, int]]:
    """Class name -> (parent drawn above it, exit code drawn)."""
    drawn: dict[str, tuple[str | None, int]] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = LINE.match(line)
        if not match:
            continue
        depth = len(match["indent"]) // 4
        stack = stack[:depth]
        drawn[match["name"]] = (stack[-1][1] if stack else None, int(match["exit"]))
        stack.append((depth, match["name"]))
    return drawn


def test_every_error_class_is_drawn_under_its_parent() -> None:
    classes = {
        name: cls
        for name, cls in vars(errors).items()
        if isinstance(cls, type) and issubclass(cls, errors.FecflowError)
    }
    drawn = _drawn()
    assert set(drawn) == set(classes)
    for name, (parent, exit_code) in drawn.items():
        cls = classes[name]
        assert cls.exit_code == exit_code, name
        if parent is not None:
            assert cls.__bases__ == (classes[parent],), name


def test_retryable_ones_are_marked() -> None:
    doc = errors.__doc__ or ""
    for name, _ in _drawn().items():
        cls = getattr(errors, name)
        marked = bool(re.search(rf"\b{name}\s+\d\s+\*retryable\*", doc))
        assert marked == cls.retryable, name
