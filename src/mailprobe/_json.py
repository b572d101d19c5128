"""JSON-safe values: the read-only form results keep them in, and back."""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

import attrs

if TYPE_CHECKING:
    from typing_extensions import TypeAlias

T = TypeVar("T")

#: A JSON-safe value as kept in results (sequences are tuples, mappings read-only).
JSONValue: TypeAlias = Union[
    None, bool, int, float, str, "tuple[JSONValue, ...]", "Mapping[str, JSONValue]"
]


def freeze(value: Any) -> JSONValue:
    """A deep read-only copy: mappings become mapping proxies, lists become tuples."""
    if isinstance(value, Mapping):
        return types.MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return tuple(freeze(v) for v in items)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def thaw(value: JSONValue) -> Any:
    """The plain ``dict``/``list`` form of a frozen value, for ``json.dumps``."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    """Converter: any iterable of strings as a tuple."""
    return tuple(value)


# -- reading to_dict() output back (from_dict), with errors that name the key --------
def read_mapping(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise TypeError(f"{what} must be a mapping, not {type(data).__name__}")
    return data


def read_field(
    data: Mapping[str, Any], key: str, kind: Union[type, tuple[type, ...]], what: str
) -> Any:
    if key not in data:
        raise ValueError(f"{what}.{key} is missing")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise TypeError(f"{what}.{key} has the wrong type ({type(value).__name__})")
    return value


def read_optional(
    data: Mapping[str, Any], key: str, read: Callable[[Any], T], what: str
) -> Optional[T]:
    value = data.get(key)
    if value is None:
        return None
    try:
        return read(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}.{key}: {exc}") from None


def read_strings(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{what} must be a list of strings")
    return tuple(value)


def read_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, not {type(value).__name__}")
    return value


def read_str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {type(value).__name__}")
    return value


# -- type checks of attrs values read from JSON ----------------------------------------
Checker = Callable[[object], bool]


def _checker(hint: Any) -> Checker:
    """A fast test of whether a value is of the annotated type (the few types details
    use), built once per field."""
    origin = typing.get_origin(hint)
    if origin is Union:
        args = typing.get_args(hint)
        parts = [_checker(arg) for arg in args if arg is not type(None)]
        if len(parts) == 1 and len(args) == 2:  # Optional[X]: the common case, kept quick
            part = parts[0]
            return lambda value: value is None or part(value)
        parts = [_checker(arg) for arg in args]
        return lambda value: any(part(value) for part in parts)
    if hint is type(None):
        return lambda value: value is None
    if hint is float:
        return lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    kind = origin if origin is not None else hint  # tuple[str, ...], Mapping[...]: the container
    return lambda value: isinstance(value, kind)


_CHECKERS: dict[type, tuple[tuple[str, Checker], ...]] = {}


def _usable(hint: Any) -> bool:
    """Whether ``_checker`` reads ``hint`` the same without resolving what it holds:
    it looks at a ``Union``'s members and at a generic's container only."""
    if typing.get_origin(hint) is Union:
        return all(_usable(arg) for arg in typing.get_args(hint))
    kind = typing.get_origin(hint) or hint
    return isinstance(kind, type)


def _quick_hints(cls: type, names: Iterable[str]) -> Optional[dict[str, Any]]:
    """The annotations of ``names``, each evaluated where ``typing.get_type_hints``
    would (the module and namespace of the class that declares it), but without
    resolving the forward references nested inside generics (``JSONValue``'s), which
    makes ``get_type_hints`` slow on the first probe. None when one cannot be read
    that way (``get_type_hints`` then does it all)."""
    hints: dict[str, Any] = {}
    for name in names:
        for klass in cls.__mro__:
            annotations = klass.__dict__.get("__annotations__", {})  # noqa: RUF063  (own only)
            if name in annotations:
                break
        else:
            return None
        hint = annotations[name]
        if isinstance(hint, str):
            module = sys.modules.get(klass.__module__)
            try:
                hint = eval(hint, getattr(module, "__dict__", {}), dict(vars(klass)))  # noqa: S307
            except Exception:
                return None
        if not _usable(hint):
            return None
        hints[name] = hint
    return hints


def _checkers(cls: type) -> tuple[tuple[str, Checker], ...]:
    found = _CHECKERS.get(cls)
    if found is None:  # once per class; a race only computes the same thing twice
        fields = [f for f in attrs.fields(cls) if f.init and f.name != "extra"]
        hints = _quick_hints(cls, [f.name for f in fields])
        if hints is None:
            hints = typing.get_type_hints(cls)
        found = tuple((f.name, _checker(hints[f.name])) for f in fields)
        _CHECKERS[cls] = found
    return found


def check_types(value: Any) -> None:
    """Raise ``TypeError`` naming the first field whose value has the wrong type."""
    for name, fits in _checkers(type(value)):
        if not fits(getattr(value, name)):
            shown = type(getattr(value, name)).__name__
            raise TypeError(f"{name} has the wrong type ({shown})")
