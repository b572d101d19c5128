"""JSON-safe values: the read-only form results keep them in, and back."""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from typing import Any, Callable, Optional, TypeVar, Union

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
