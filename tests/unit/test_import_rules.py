"""The house rules on who may import what, read from the source with `ast`.

Views never talk to the payment gateway, services never render templates or read forms, models know
nothing of the layers above them, and only `membership/payments/` speaks to Stripe's library.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("membership", "stripe_standin")


def imported_names(path: Path, source: str | None = None) -> Iterator[str]:
    """Every dotted name the module at `path` imports, as `package.module` or `package.module.name`.

    `source` parses other text as though it lived at `path`, so relative imports resolve there.
    """
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = list(package[: len(package) - node.level + 1])
                base = ".".join([*parent, base] if base else parent)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def modules_under(relative: str) -> list[Path]:
    return sorted((ROOT / relative).rglob("*.py"))


def broken_rules(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in paths:
        for name in imported_names(path):
            if any(name == rule or name.startswith(rule + ".") for rule in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_blueprints_do_not_import_the_payment_gateway() -> None:
    paths = modules_under("membership/blueprints")
    assert paths
    assert broken_rules(paths, ("membership.payments.gateway",)) == []


def test_services_neither_render_templates_nor_read_forms() -> None:
    paths = modules_under("membership/services")
    assert paths
    forbidden = ("flask.render_template", "flask.render_template_string", "membership.forms")
    assert broken_rules(paths, forbidden) == []


def test_models_import_no_service_or_blueprint() -> None:
    paths = modules_under("membership/models")
    assert paths
    forbidden = ("membership.services", "membership.blueprints")
    assert broken_rules(paths, forbidden) == []


def test_only_the_payments_package_imports_stripe() -> None:
    outside = [
        path
        for package in PACKAGES
        for path in modules_under(package)
        if not path.is_relative_to(ROOT / "membership" / "payments")
    ]
    assert broken_rules(outside, ("stripe",)) == []


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        (
            "from flask import render_template\n",
            "membership/services/x.py",
            "flask.render_template",
        ),
        (
            "from ..payments import gateway\n",
            "membership/blueprints/x.py",
            "membership.payments.gateway",
        ),
        ("from . import forms\n", "membership/x.py", "membership.forms"),
        ("import stripe.error\n", "membership/x.py", "stripe.error"),
    ],
)
def test_the_checker_sees_each_kind_of_import(source: str, module: str, expected: str) -> None:
    """The rules above would pass vacuously if the parser missed an import form."""
    assert expected in list(imported_names(ROOT / module, source))
