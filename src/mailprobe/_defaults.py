"""The built-in rule registry, provider data and message texts, loaded on first use.

A probe that passes classifies nothing and looks up no provider, so neither is read
at import or when a ``Prober`` is made: the first failure (or discovery) of a
``Prober`` given no ``rules`` / ``providers`` of its own builds them, once per
process. Both are read-only once built (``RuleRegistry`` and ``Providers`` given to
a ``Prober`` are, as its docstring says), so every such ``Prober`` shares them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ._providers import Providers
    from ._rules._registry import RuleRegistry

_lock = threading.Lock()
_rules: Optional[RuleRegistry] = None
_providers: Optional[Providers] = None


def shared_rules() -> RuleRegistry:
    """The built-in rules (``default_registry()``), built once per process."""
    global _rules  # noqa: PLW0603
    rules = _rules
    if rules is None:
        with _lock:
            if _rules is None:
                from ._rules._builtin import default_registry  # noqa: PLC0415

                registry = default_registry()
                registry.rules  # noqa: B018  (sorted before other threads see it)
                _rules = registry
            rules = _rules
    return rules


def shared_providers() -> Providers:
    """The shipped provider data (``default_providers()``), read once per process."""
    global _providers  # noqa: PLW0603
    providers = _providers
    if providers is None:
        with _lock:
            if _providers is None:
                from ._providers import default_providers  # noqa: PLC0415

                _providers = default_providers()
            providers = _providers
    return providers


def english_text(message_id: str, **params: str) -> str:
    """The built-in English text of ``message_id`` (warnings and hints a stage adds);
    the catalogue loads with the rules, on first use."""
    from ._rules._advice import english_text as text  # noqa: PLC0415

    return text(message_id, **params)
