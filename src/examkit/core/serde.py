"""From vendor JSON to typed models, strictly, with the vendor's key names kept out of the models.

Each vendor builds one :class:`PayloadConverter` and registers its attrs models with the vendor's key
names. The converter then:

* reads numbers sent as strings (``"42"``, ``"0.75"``) into ``int`` and :class:`~decimal.Decimal`
  without silent coercion: ``"false"`` is not a bool, ``1.9`` is not an int, ``"1e3"`` is not an int;
* reads epoch seconds (``1586808802`` or ``"1586808802"``) into aware UTC datetimes where a field is
  marked ``Annotated[datetime, EpochSeconds()]``;
* turns sentinel values into ``None`` where a field is marked ``Annotated[X | None, NoneIf("-1", "0")]``;
* keeps enum values it does not know, for fields typed ``SomeEnum | str``;
* keeps unknown keys in the model's ``extra`` mapping instead of dropping them;
* reports any problem as :class:`~examkit.PayloadError` whose ``field`` is the path in the
  vendor's spelling, e.g. ``Sessions[2].Start_Date``.

The fast path runs cattrs without detailed validation; only when it fails does a second, detailed pass
run to explain where and why.
"""

from __future__ import annotations

import collections.abc
import enum
import itertools
import json
import json.scanner
import math
import operator
import re
import threading
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from itertools import compress, repeat
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeVar, Union, get_args, get_origin

import attrs

from examkit.core.clock import epoch_to_datetime, parse_epoch_seconds, parse_iso_date, parse_iso_datetime
from examkit.core.errors import ExamkitError, PayloadError

if TYPE_CHECKING:
    # cattrs loads when a converter is first built or explains a failure, not with this module:
    # verifying a signature reads JSON (load_json) and never pays for it.
    import cattrs
    from cattrs.errors import IterableValidationError

__all__: list[str] = []

T = TypeVar("T")

EXTRA: Final = "extra"
"""The attribute name under which models keep the keys they do not know."""

MAX_JSON_DEPTH: Final = 64
"""The deepest nesting of arrays and objects any examkit JSON decoder accepts (``{"a": [1]}`` is 2).

Vendor payloads nest a few levels; a deeper body is refused with a
:class:`~examkit.PayloadError` whose ``reason`` is ``"too deep"`` before anything walks
it, so no code that recurses over a payload can reach Python's recursion limit."""

# The key under which the wrapper hands unknown keys to cattrs' generated function. Any text works: a
# payload key of the same spelling is itself unknown, so it lands inside the mapping and is kept. It must
# be plain text, because cattrs before 26.2 writes renamed keys into generated source unescaped.
_EXTRA_KEY: Final = "__examkit_extra__"
_INT_RE: Final = re.compile(r"\A[+-]?[0-9]+\Z", re.ASCII)
_MAX_NUMBER_CHARS: Final = 100
_UTC: Final = timezone.utc
# Scores and levels are small numbers; "1e99999999" is a valid literal whose formatting or int() would
# take the consumer's CPU and memory, so magnitudes beyond 10**1000 are refused.
_MAX_DECIMAL_EXPONENT: Final = 1000
_SCALARS: Final = frozenset({str, int, float, bool, Decimal})


@attrs.frozen
class EpochSeconds:
    """Marks a ``datetime`` field whose wire value is whole Unix seconds (a number or a digit string).

    Use as ``Annotated[datetime, EpochSeconds()]``.
    """


@attrs.frozen(init=False)
class NoneIf:
    """Marks a field whose wire value means "none" when it equals one of ``sentinels``.

    Use as ``Annotated[datetime | None, NoneIf("-1", "0"), EpochSeconds()]``. Strings and numbers are
    compared as sent: ``NoneIf("-1")`` matches the string ``"-1"`` only, ``NoneIf("-1", -1)`` both.
    ``None`` on the wire is always ``None`` for an optional field.
    """

    sentinels: tuple[object, ...]

    def __init__(self, *sentinels: object) -> None:
        self.__attrs_init__(sentinels)


@attrs.frozen
class AssumeTimezone:
    """Marks a ``datetime`` field whose wire value is an ISO 8601 time that may lack a UTC offset.

    Without this marker a naive time is refused, because it cannot be placed on the time line.
    Use as ``Annotated[datetime, AssumeTimezone(timezone.utc)]``.
    """

    tz: tzinfo = timezone.utc


def extra_field() -> Any:
    """Return the attrs field definition for a model's ``extra`` mapping (unknown keys, kept).

    It defaults to an empty mapping, takes no part in hashing, and is left out of ``repr``.
    """
    return attrs.field(factory=dict, hash=False, repr=False, kw_only=True)


class _ConversionError(ValueError):
    """A value that does not fit its type; the message says why (internal)."""


def _describe(value: object) -> str:  # noqa: PLR0911 - one return per kind of value
    if isinstance(value, str):
        text = value if len(value) <= 32 else value[:32] + "..."
        return f"the string {text!r}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        text = str(value)
        return f"the number {text if len(text) <= 32 else text[:32] + '...'}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


# --- scalar hooks -----------------------------------------------------------------------------


def _structure_int(value: object, _: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool):
        raise _ConversionError(f"expected an integer, got {_describe(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= _MAX_NUMBER_CHARS and _INT_RE.match(text):
            return int(text)
    elif isinstance(value, float | Decimal):
        # 3.0 or Decimal("3") is an integer written with a fraction; no information is lost.
        finite = value.is_finite() if isinstance(value, Decimal) else abs(value) < float("inf")
        if finite and value % 1 == 0 and abs(value) < 10**_MAX_NUMBER_CHARS:
            return int(value)
    raise _ConversionError(f"expected an integer, got {_describe(value)}")


def _decimal_text(text: str) -> Decimal | None:
    """Read a stripped decimal literal, or return ``None`` when it is not one (or is too large).

    A decimal literal is ``[+-]?(digits[.digits?] | .digits)([eE][+-]?digits)?`` in ASCII digits.
    ``Decimal()`` also reads underscores, non-ASCII digits, ``NaN`` and ``Infinity``; an ASCII text
    without ``_`` that it reads as a finite number is exactly such a literal, so no pattern is needed.
    """
    if len(text) > _MAX_NUMBER_CHARS or not text.isascii() or "_" in text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number.adjusted()) > _MAX_DECIMAL_EXPONENT:
        return None
    return number


def _structure_decimal(value: object, _: Any) -> Decimal:
    kind = type(value)
    if kind is str:
        number = _decimal_text(value.strip())  # type: ignore[attr-defined]
        if number is not None:
            return number
        raise _ConversionError(f"expected a decimal number, got {_describe(value)}")
    if kind is int:
        return Decimal(value)  # type: ignore[arg-type]
    return _structure_decimal_other(value)


def _structure_decimal_other(value: object) -> Decimal:
    if isinstance(value, Decimal):
        if value.is_finite() and abs(value.adjusted()) <= _MAX_DECIMAL_EXPONENT:
            return value
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        if math.isfinite(value):
            return Decimal(repr(value))
    elif isinstance(value, str):  # a subclass of str
        number = _decimal_text(str(value).strip())
        if number is not None:
            return number
    raise _ConversionError(f"expected a decimal number, got {_describe(value)}")


def _structure_float(value: object, _: Any) -> float:
    return float(_structure_decimal(value, _))


def _structure_bool(value: object, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _ConversionError(f"expected true or false, got {_describe(value)}")


def _structure_str(value: object, _: Any) -> str:
    if type(value) is str or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # An identifier sent as a number: writing it as text loses nothing.
        return str(value)
    raise _ConversionError(f"expected a string, got {_describe(value)}")


def _structure_any(value: object, _: Any) -> Any:
    return value


def _structure_datetime(value: object, _: Any, tz: tzinfo | None = None) -> datetime:
    if isinstance(value, str):
        try:
            parsed = parse_iso_datetime(value.strip())
        except ValueError:
            raise _ConversionError(f"expected an ISO 8601 date and time, got {_describe(value)}") from None
        if parsed.tzinfo is None:
            if tz is None:
                raise _ConversionError(f"expected a time with a UTC offset, got {_describe(value)}")
            parsed = parsed.replace(tzinfo=tz)
        return parsed
    raise _ConversionError(f"expected an ISO 8601 date and time, got {_describe(value)}")


def _structure_date(value: object, _: Any) -> date:
    if isinstance(value, str):
        try:
            return parse_iso_date(value.strip())
        except ValueError:
            pass
    raise _ConversionError(f"expected an ISO 8601 date (YYYY-MM-DD), got {_describe(value)}")


def _structure_epoch(value: object) -> datetime:
    # Fast path for the common case, whole non-negative seconds as an ASCII digit string or an int;
    # anything else, and any value out of range, takes the strict path below for its message.
    seconds: int | None = None
    if isinstance(value, str):
        if value.isascii() and value.isdigit() and len(value) <= 11:
            seconds = int(value)
    elif type(value) is int and 0 <= value < 10**11:
        seconds = value
    if seconds is not None:
        try:
            return datetime.fromtimestamp(seconds, _UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return _structure_epoch_strict(value)


def _structure_epoch_strict(value: object) -> datetime:
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return epoch_to_datetime(parse_epoch_seconds(value, what="the value", error=_ConversionError))
        except (ExamkitError, _ConversionError):
            pass
    raise _ConversionError(f"expected whole Unix seconds, got {_describe(value)}")


# --- predicates for composite types ----------------------------------------------------------


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    """Return ``(inner, optional)`` for ``X | None``."""
    if _is_union(tp):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) < len(get_args(tp)):
            inner = args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007
            return inner, True
    return tp, False


def _has_marker(tp: Any) -> bool:
    return get_origin(tp) is Annotated and any(
        isinstance(m, EpochSeconds | NoneIf | AssumeTimezone) for m in tp.__metadata__
    )


def _open_enum(tp: Any) -> type[enum.Enum] | None:
    """Return ``E`` when ``tp`` is ``E | str`` for an Enum ``E`` (optionally with ``None``)."""
    if not _is_union(tp):
        return None
    args = [a for a in get_args(tp) if a is not type(None)]
    if len(args) != 2 or str not in args:
        return None
    other = args[0] if args[1] is str else args[1]
    if isinstance(other, type) and issubclass(other, enum.Enum):
        return other
    return None


def _is_simple_optional(tp: Any) -> bool:
    """``X | None`` for one non-union, non-annotated ``X``."""
    if not _is_union(tp):
        return False
    args = get_args(tp)
    return len(args) == 2 and type(None) in args and get_origin(_strip_optional(tp)[0]) is not Annotated


def _optional_hook(conv: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    inner, _ = _strip_optional(tp)
    structure_inner = conv.get_structure_hook(inner)
    if inner is str or inner is int:
        # A value that already has the exact type needs no conversion (bool is not int here).
        def exact(value: Any, _: Any) -> Any:
            if value is None or type(value) is inner:
                return value
            return structure_inner(value, inner)

        return exact

    def hook(value: Any, _: Any) -> Any:
        return None if value is None else structure_inner(value, inner)

    return hook


_LIST_ORIGINS: Final = frozenset({list, collections.abc.Sequence, collections.abc.MutableSequence})
_SET_ORIGINS: Final = frozenset({set, frozenset, collections.abc.Set, collections.abc.MutableSet})
_MAPPING_ORIGINS: Final = frozenset({dict, collections.abc.Mapping, collections.abc.MutableMapping})


def _collection_kind(tp: Any) -> str | None:
    """Name the kind of collection ``tp`` is (``"tuple"``, ``"list"``, ``"set"``, ``"mapping"``)."""
    origin = get_origin(tp) or tp
    if origin is tuple:
        return "tuple"
    if origin in _LIST_ORIGINS:
        return "list"
    if origin in _SET_ORIGINS:
        return "set"
    if origin in _MAPPING_ORIGINS:
        return "mapping"
    return None


def _is_collection(tp: Any) -> bool:
    try:
        return _collection_kind(tp) is not None
    except TypeError:  # an unhashable annotation is no collection type
        return False


def _annotated(exc: Exception, index: int | str, tp: Any) -> IterableValidationError:
    """Wrap the first item error of a collection as cattrs does, so the error path names the item."""
    from cattrs.errors import IterableValidationError, IterableValidationNote  # noqa: PLC0415

    note = IterableValidationNote(f"Structuring {tp!r} @ index {index!r}", index, tp)
    exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]
    return IterableValidationError(f"While structuring {tp!r}", [exc], tp)


def _collection_hook(conv: cattrs.Converter, tp: Any, *, detailed: bool) -> Callable[[Any, Any], Any]:
    """Structure a tuple, list, set or mapping type strictly, in both converters.

    The value must be a JSON array (an object for a mapping): a string is refused at once, never
    walked character by character. The first item that does not fit stops the walk; the detailed
    converter records its index (or key) for the error path. So a refused collection costs at most
    one pass over it, whatever its length.
    """
    kind = _collection_kind(tp)
    args = get_args(tp)
    if kind == "mapping":
        return _mapping_hook(conv, tp, args, detailed=detailed)
    fixed: tuple[Any, ...] | None = None
    if kind == "tuple" and args and not (len(args) == 2 and args[1] is Ellipsis):
        fixed = () if args == ((),) else args
    item = args[0] if args else Any
    structure_item = conv.get_structure_hook(item)
    origin = get_origin(tp) or tp
    make: Callable[[list[Any]], Any]
    if kind == "tuple":
        make = tuple
    elif kind == "list":
        make = list
    elif origin in (set, collections.abc.MutableSet):
        make = set
    else:
        make = frozenset

    def check(value: Any) -> None:
        if type(value) is not list and not isinstance(value, list | tuple):
            raise _ConversionError(f"expected an array, got {_describe(value)}")
        if fixed is not None and len(value) != len(fixed):
            raise _ConversionError(f"expected an array of {len(fixed)} items, got {len(value)}")

    if fixed is not None:
        hooks = [conv.get_structure_hook(t) for t in fixed]

        def fixed_hook(value: Any, _: Any) -> Any:
            check(value)
            result = []
            index = 0
            try:
                for index, (hook, t, v) in enumerate(zip(hooks, fixed, value, strict=True)):  # noqa: B007
                    result.append(hook(v, t))
            except Exception as exc:
                if not detailed:
                    raise
                raise _annotated(exc, index, tp) from None
            return tuple(result)

        return fixed_hook

    if not detailed:

        def fast_hook(value: Any, _: Any) -> Any:
            if type(value) is not list:
                check(value)
            return make([structure_item(v, item) for v in value])

        return fast_hook

    def detailed_hook(value: Any, _: Any) -> Any:
        check(value)
        result = []
        index = 0
        try:
            for index, v in enumerate(value):  # noqa: B007 - read by the handler
                result.append(structure_item(v, item))
        except Exception as exc:
            raise _annotated(exc, index, tp) from None
        return make(result)

    return detailed_hook


def _mapping_hook(
    conv: cattrs.Converter, tp: Any, args: tuple[Any, ...], *, detailed: bool
) -> Callable[[Any, Any], Any]:
    key_type, value_type = args if len(args) == 2 else (Any, Any)
    structure_key = conv.get_structure_hook(key_type)
    structure_value = conv.get_structure_hook(value_type)
    plain_keys = key_type is Any or key_type is str
    plain_values = value_type is Any

    def hook(value: Any, _: Any) -> Any:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise _ConversionError(f"expected an object, got {_describe(value)}")
        if plain_values and plain_keys and all(type(k) is str for k in value):
            return dict(value)
        result = {}
        k: Any = None
        try:
            for k, v in value.items():
                result[structure_key(k, key_type)] = structure_value(v, value_type)
        except Exception as exc:
            if not detailed:
                raise
            raise _annotated(exc, k if isinstance(k, int | str) else repr(k)[:40], tp) from None
        return result

    return hook


class PayloadConverter:
    """A vendor's converter between its JSON payloads and examkit's attrs models.

    Args:
        vendor: The vendor name, carried by every :class:`~examkit.PayloadError`.
        key_style: Maps an attribute name to the vendor's key when no explicit rename is given
            (for example ``str.title`` style functions); the default keeps the name as it is.

    Register every model (nested ones too) with :meth:`register` before use.
    """

    def __init__(self, *, vendor: str, key_style: Callable[[str], str] | None = None) -> None:
        self.vendor = vendor
        self._key_style = key_style or (lambda name: name)
        self._wire_names: dict[type, dict[str, str]] = {}
        # Registrations are recorded and turned into cattrs functions on first use, so importing a
        # vendor package stays cheap; the detailed converter is built only when an error needs it.
        self._hooks: list[tuple[Any, Callable[[Any, Any], Any]]] = []
        self._models: list[tuple[type, dict[str, str], bool, tuple[str, ...]]] = []
        self._built: dict[bool, cattrs.Converter] = {}
        self._lock = threading.Lock()

    @property
    def _fast(self) -> cattrs.Converter:
        return self._built.get(False) or self._build(detailed=False)

    @property
    def _detailed(self) -> cattrs.Converter:
        return self._built.get(True) or self._build(detailed=True)

    def _build(self, *, detailed: bool) -> cattrs.Converter:
        with self._lock:
            if detailed in self._built:
                return self._built[detailed]
            conv = self._make_converter(detailed=detailed)
            for tp, hook in self._hooks:
                conv.register_structure_hook(tp, hook)
            for cls, wire, keeps_extra, local in self._models:
                _register_model(conv, cls, wire, keeps_extra, local)
            self._built[detailed] = conv
            return conv

    # -- building -------------------------------------------------------------------------------

    def _make_converter(self, *, detailed: bool) -> cattrs.Converter:
        import cattrs  # noqa: PLC0415 - loaded with the first converter, not with examkit

        conv = cattrs.Converter(detailed_validation=detailed)
        conv.register_structure_hook(int, _structure_int)
        conv.register_structure_hook(Decimal, _structure_decimal)
        conv.register_structure_hook(float, _structure_float)
        conv.register_structure_hook(bool, _structure_bool)
        conv.register_structure_hook(str, _structure_str)
        conv.register_structure_hook(datetime, _structure_datetime)
        conv.register_structure_hook(date, _structure_date)
        conv.register_structure_hook_func(lambda tp: tp is Any, _structure_any)
        conv.register_structure_hook_factory(_is_simple_optional, lambda tp: _optional_hook(conv, tp))
        # Both converters read collections with examkit's strict hooks: cattrs' own would walk a
        # string character by character and, with detailed validation, collect one error per item.
        conv.register_structure_hook_factory(
            _is_collection, lambda tp: _collection_hook(conv, tp, detailed=detailed)
        )
        conv.register_structure_hook_factory(_has_marker, lambda tp: self._marker_hook(conv, tp))
        conv.register_structure_hook_factory(lambda tp: _open_enum(tp) is not None, self._open_enum_hook)
        conv.register_unstructure_hook(Decimal, Decimal.__str__)
        conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
        conv.register_unstructure_hook(date, lambda d: d.isoformat())
        return conv

    @staticmethod
    def _marker_hook(conv: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
        base = get_args(tp)[0]
        markers = tp.__metadata__
        sentinels: tuple[object, ...] = ()
        epoch = False
        assume: tzinfo | None = None
        for marker in markers:
            if isinstance(marker, NoneIf):
                sentinels += marker.sentinels
            elif isinstance(marker, EpochSeconds):
                epoch = True
            elif isinstance(marker, AssumeTimezone):
                assume = marker.tz
        inner, optional = _strip_optional(base)
        if sentinels and not optional:
            raise TypeError(f"NoneIf needs an optional type, got {base!r}")
        inner_hook: Callable[[Any], Any]
        if epoch:
            inner_hook = _structure_epoch
        elif assume is not None:
            inner_hook = lambda v: _structure_datetime(v, None, assume)  # noqa: E731
        else:
            structure_inner = conv.get_structure_hook(inner)
            inner_hook = lambda v: structure_inner(v, inner)  # noqa: E731

        # Sentinels match by type and value ("-1" is not -1); scalar ones are looked up in one set.
        keyed = frozenset((type(s), s) for s in sentinels if type(s) in _SCALARS)
        others = tuple(s for s in sentinels if type(s) not in _SCALARS)

        def hook(value: Any, _: Any) -> Any:
            if value is None and optional:
                return None
            kind = type(value)
            if kind in _SCALARS and (kind, value) in keyed:
                return None
            for sentinel in others:
                if kind is type(sentinel) and value == sentinel:
                    return None
            return inner_hook(value)

        if others or not optional:
            return hook
        return _sentinel_fast_path(inner, keyed, hook, epoch=epoch)

    @staticmethod
    def _open_enum_hook(tp: Any) -> Callable[[Any, Any], Any]:
        enum_cls = _open_enum(tp)
        assert enum_cls is not None  # noqa: S101 - guaranteed by the predicate
        optional = type(None) in get_args(tp)
        values = {member.value: member for member in enum_cls}

        def hook(value: Any, _: Any) -> Any:
            if value is None and optional:
                return None
            if isinstance(value, str):
                return values.get(value, value)
            raise _ConversionError(f"expected a string, got {_describe(value)}")

        return hook

    def register_hook(self, tp: Any, hook: Callable[[Any, Any], Any]) -> None:
        """Read values of type ``tp`` with ``hook(value, tp)``, for types the core does not know.

        Register hooks before the models that use the type. A hook refuses a value by raising
        :class:`ValueError` (or :class:`~examkit.PayloadError`) with a message that says what
        was expected; the converter adds the vendor's key path.
        """
        with self._lock:
            self._hooks.append((tp, hook))
            for conv in self._built.values():
                conv.register_structure_hook(tp, hook)

    def register(
        self, cls: type, *, rename: Mapping[str, str] | None = None, local: Iterable[str] = ()
    ) -> None:
        """Register an attrs model: its attributes map to vendor keys through ``rename`` or ``key_style``.

        A model with an ``extra`` attribute (see :func:`extra_field`) receives every key it does not
        know there.

        Args:
            cls: The attrs class.
            rename: Attribute name to vendor key, for names ``key_style`` does not produce.
            local: Attributes that examkit sets itself (for example whether a verifier authenticated
                the body): never read from a payload nor written back, so a sender cannot set them; a
                payload key of the same name is kept in ``extra`` like any unknown key.
        """
        rename = dict(rename or {})
        local = tuple(local)
        fields = attrs.fields(cls)
        names = {a.name for a in fields}
        unknown = (set(rename) | set(local)) - names
        if unknown:
            raise TypeError(f"{cls.__name__} has no attributes {sorted(unknown)}")
        keeps_extra = EXTRA in names
        wire = {
            a.name: rename.get(a.name, self._key_style(a.name))
            for a in fields
            if a.name != EXTRA and a.name not in local
        }
        if _EXTRA_KEY in wire.values():
            raise TypeError(f"{cls.__name__}: the key {_EXTRA_KEY!r} is reserved for unknown keys")
        _check_markers(cls)
        self._wire_names[cls] = wire
        with self._lock:
            self._models.append((cls, wire, keeps_extra, local))
            for conv in self._built.values():
                _register_model(conv, cls, wire, keeps_extra, local)

    # -- using ----------------------------------------------------------------------------------

    def structure(self, data: object, cls: type[T]) -> T:
        """Build a ``cls`` from decoded JSON.

        Raises:
            PayloadError: The data does not fit the model; ``field`` names the vendor key path.
        """
        fast = self._fast  # built outside the try: a broken model must not pass for a bad payload
        try:
            return fast.structure(data, cls)
        except Exception:  # every failure is explained by the detailed pass
            raise self._explain_failure(data, cls) from None

    def _explain_failure(self, data: object, cls: type) -> PayloadError:
        """Run the detailed converter over data the fast one refused, and describe the first problem."""
        try:
            self._detailed.structure(data, cls)
        except Exception as exc:  # any failure inside cattrs or a hook is explained
            path, reason = self._explain(exc, cls, "")
        else:  # pragma: no cover - the two converters share every hook, so they agree
            path, reason = "", "could not be read"
        field = path.lstrip(".") or None
        return PayloadError(
            f"{field or 'the payload'}: {reason}", field=field, reason=reason, vendor=self.vendor
        )

    def loads(self, body: bytes | str, cls: type[T]) -> T:
        """Decode a JSON body (see :func:`load_json`) and build a ``cls`` from it.

        Raises:
            PayloadError: The body is not JSON, or does not fit the model.
        """
        return self.structure(load_json(body, vendor=self.vendor), cls)

    def unstructure(self, obj: object) -> Any:
        """Turn a model back into JSON-ready data with the vendor's key names (extras merged back)."""
        return self._fast.unstructure(obj)

    def wire_name(self, cls: type, attribute: str) -> str:
        """Return the vendor's key for ``cls.attribute``."""
        return self._wire_names.get(cls, {}).get(attribute, attribute)

    def _explain(self, exc: BaseException, cls: Any, path: str) -> tuple[str, str]:
        from cattrs.errors import (  # noqa: PLC0415 - loaded already: a converter raised exc
            BaseValidationError,
            ClassValidationError,
            IterableValidationError,
        )

        if isinstance(exc, ClassValidationError | IterableValidationError | BaseValidationError):
            owner = getattr(exc, "cl", cls)
            for sub in exc.exceptions:
                segment = ""
                for note in getattr(sub, "__notes__", ()):
                    name = getattr(note, "name", None)
                    index = getattr(note, "index", None)
                    if isinstance(name, str):
                        segment = "." + self.wire_name(owner, name)
                    elif index is not None:
                        segment = f"[{index}]"
                return self._explain(sub, getattr(sub, "cl", None), path + segment)
        if isinstance(exc, KeyError):
            return path, "is missing"
        if isinstance(exc, _ConversionError | PayloadError):
            return path, str(exc)
        if type(exc) is ValueError:  # raised by a vendor's hook with a message meant for users
            return path, str(exc)
        return path, "has the wrong type or shape"


# --- fast paths for optional fields with sentinels --------------------------------------------------
#
# Vendor payloads are full of optional fields marked NoneIf(...) whose wire value is a string: a number,
# a time or an enum value sent as text. Each fast path answers the usual string (or exact int) in one
# call; anything else, and any value the fast path cannot read, goes to the general ``hook``, which
# decides and explains exactly as before.

_Hook = Callable[[Any, Any], Any]


def _sentinel_fast_path(
    inner: Any, keyed: frozenset[tuple[type, object]], hook: _Hook, *, epoch: bool
) -> _Hook:
    texts = frozenset(s for kind, s in keyed if kind is str)
    if epoch:
        return _epoch_fast(texts, hook)
    if inner is str:
        return _text_fast(texts, hook)
    if inner is Decimal:
        return _decimal_fast(texts, hook)
    if inner is int:
        return _int_fast(texts, keyed, hook)
    enum_cls = _open_enum(inner)
    if enum_cls is not None:
        return _enum_fast(texts, {member.value: member for member in enum_cls}, hook)
    return hook


def _epoch_fast(texts: frozenset[object], hook: _Hook) -> _Hook:
    def epoch_hook(value: Any, _: Any) -> Any:
        if type(value) is str:
            if value in texts:
                return None
            if value.isascii() and value.isdigit() and len(value) <= 11:
                try:
                    return datetime.fromtimestamp(int(value), _UTC)
                except (OverflowError, OSError, ValueError):
                    pass
        return hook(value, _)

    return epoch_hook


def _text_fast(texts: frozenset[object], hook: _Hook) -> _Hook:
    def text_hook(value: Any, _: Any) -> Any:
        if type(value) is str:
            return None if value in texts else value
        return hook(value, _)

    return text_hook


def _decimal_fast(texts: frozenset[object], hook: _Hook) -> _Hook:
    def decimal_hook(value: Any, _: Any) -> Any:
        if type(value) is str:
            if value in texts:
                return None
            number = _decimal_text(value.strip())
            if number is not None:
                return number
        return hook(value, _)

    return decimal_hook


def _int_fast(texts: frozenset[object], keyed: frozenset[tuple[type, object]], hook: _Hook) -> _Hook:
    def int_hook(value: Any, _: Any) -> Any:
        kind = type(value)
        if kind is str:
            if value in texts:
                return None
            if value.isascii() and value.isdigit() and len(value) <= _MAX_NUMBER_CHARS:
                return int(value)
        elif kind is int and (int, value) not in keyed:
            return value
        return hook(value, _)

    return int_hook


def _enum_fast(texts: frozenset[object], members: Mapping[object, object], hook: _Hook) -> _Hook:
    def enum_hook(value: Any, _: Any) -> Any:
        if type(value) is str:
            return None if value in texts else members.get(value, value)
        return hook(value, _)

    return enum_hook


def _register_model(
    conv: cattrs.Converter, cls: type, wire: dict[str, str], keeps_extra: bool, local: tuple[str, ...]
) -> None:
    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override  # noqa: PLC0415

    known = frozenset(wire.values())
    overrides: dict[str, Any] = {name: override(rename=key) for name, key in wire.items()}
    overrides.update({name: override(omit=True) for name in local})
    if keeps_extra:
        overrides[EXTRA] = override(rename=_EXTRA_KEY)
    generated: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, conv, **overrides)
    conv.register_structure_hook(cls, _wrap_structure(cls, generated, known, keeps_extra))
    unstruct_overrides: dict[str, Any] = {name: override(rename=key) for name, key in wire.items()}
    unstruct_overrides.update({name: override(omit=True) for name in local})
    if keeps_extra:
        unstruct_overrides[EXTRA] = override(omit=True)
    gen_unstructure: Callable[[Any], Any] = make_dict_unstructure_fn(cls, conv, **unstruct_overrides)
    conv.register_unstructure_hook(cls, _wrap_unstructure(gen_unstructure, keeps_extra))


def _check_markers(cls: type) -> None:
    """Refuse marker combinations that cannot work, when the model is registered (not on first use)."""
    for field in attrs.fields(attrs.resolve_types(cls)):
        tp = field.type
        if get_origin(tp) is Annotated and any(isinstance(m, NoneIf) for m in tp.__metadata__):
            base = get_args(tp)[0]
            if not _strip_optional(base)[1]:
                raise TypeError(f"{cls.__name__}.{field.name}: NoneIf needs an optional type, got {base!r}")


def _wrap_structure(
    cls: type, generated: Callable[[Any, Any], Any], known: frozenset[str], keeps_extra: bool
) -> Callable[[Any, Any], Any]:
    name = cls.__name__

    def hook(data: Any, tp: Any) -> Any:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise _ConversionError(f"expected an object ({name}), got {_describe(data)}")
        return generated(data, tp)

    if not keeps_extra:
        return hook

    def extra_hook(data: Any, tp: Any) -> Any:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise _ConversionError(f"expected an object ({name}), got {_describe(data)}")
        if data.keys() <= known:
            return generated(data, tp)
        unknown = {k: v for k, v in data.items() if k not in known}
        return generated({**data, _EXTRA_KEY: unknown}, tp)

    return extra_hook


def _wrap_unstructure(generated: Callable[[Any], Any], keeps_extra: bool) -> Callable[[Any], Any]:
    if not keeps_extra:
        return generated

    def hook(obj: Any) -> Any:
        data = generated(obj)
        extra = getattr(obj, EXTRA)
        if extra:
            data.update({k: v for k, v in extra.items() if k not in data})
        return data

    return hook


# --- the one strict-JSON policy -------------------------------------------------------------------
#
# Every JSON body examkit reads goes through :func:`decode_strict_json`: :func:`load_json` and the
# Testpress decoder that keeps number literals. The policy is defined here once: UTF-8 only, no
# repeated key, no ``NaN``/``Infinity``, no lone surrogate, fractions as exact ``Decimal``, nesting at
# most :data:`MAX_JSON_DEPTH` levels. A decoder may only choose how numbers are represented.


def _reject_constant(name: str) -> typing.NoReturn:
    raise _ConversionError(f"{name} is not allowed in JSON")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _ConversionError(f"the key {key!r} appears more than once in one object")
            seen.add(key)
    return result


# A JSON string, escapes included: its brackets are text, not nesting.
_JSON_STRING_RE: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
# Opening brackets become the signed byte 1, closing ones -1, so the running sum is the depth.
_DEPTH_STEPS: Final = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_SURROGATE_RE: Final = re.compile("[\ud800-\udfff]")
# The escape of a surrogate (\ud800 to \udfff): the only way decoded UTF-8 gets one.
_SURROGATE_ESCAPE_RE: Final = re.compile(r"\\u[dD][89a-fA-F]")


def exceeds_json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Tell whether the JSON ``text`` nests arrays and objects more than ``limit`` levels deep.

    The check runs at C speed and recurses over nothing: a body with no more than ``limit`` brackets
    in all is answered by counting them; otherwise strings are cut out and the running depth over the
    remaining brackets is computed in one pass. Text that is not JSON gets some answer; the decoder
    then refuses it.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    steps = _depth_steps(text)
    if b"\x01" * (limit + 1) in steps:  # the usual deep body: a run of openers, found by a search
        return True
    return max(itertools.accumulate(memoryview(steps).cast("b")), default=0) > limit


def _depth_steps(text: str) -> bytes:
    """The brackets of the JSON ``text`` outside its strings, as signed steps (1 opens, -1 closes).

    Without an escaped quote, every ``"`` of valid JSON opens or closes a string, so splitting on
    quotes and keeping every other piece cuts the strings out exactly, at C speed. The pieces cost
    several times the text in memory, so a large text (or one with an escaped quote) has its
    strings cut out by a regular expression that knows escapes, which needs about one copy.
    """
    if len(text) <= _SPLIT_LIMIT and '\\"' not in text:
        outside = "".join(text.split('"')[::2])
    else:
        outside = _JSON_STRING_RE.sub("", text)
    return outside.encode("utf-8", "surrogatepass").translate(_DEPTH_STEPS, _NOT_BRACKETS)


_SPLIT_LIMIT: Final = 256 * 1024
"""Texts up to this many characters take the fast split in :func:`_depth_steps`."""


def _has_lone_surrogate(text: str, value: Any, *, from_utf8: bool) -> bool:
    r"""Tell whether the decoded ``value`` of the valid JSON ``text`` holds a lone surrogate.

    Decoded UTF-8 holds no surrogate of its own, so one can only come from a ``\uD800``-``\uDFFF``
    escape: without one (the fast path, one search at C speed) there is none; with some, only those
    escapes are looked at (:func:`_lone_surrogate_escape`). Text given as ``str`` that holds surrogates
    itself is checked by walking the value (:func:`_holds_lone_surrogate`).
    """
    if not from_utf8 and _SURROGATE_RE.search(text):
        return _holds_lone_surrogate(value)
    return _SURROGATE_ESCAPE_RE.search(text) is not None and _lone_surrogate_escape(text)


def _lone_surrogate_escape(text: str) -> bool:
    r"""Whether valid JSON ``text`` has a surrogate escape that the decoder leaves alone.

    JSON decoders join a high escape (``\uD800``-``\uDBFF``) with a low one (``\uDC00``-``\uDFFF``)
    written right after it; every other surrogate escape decodes to a lone surrogate. An escape is
    real when an even number of backslashes stands before it (``\\uD800`` is text).
    """
    real: dict[int, bool] = {}  # where a real surrogate escape starts -> whether it is a high one
    for match in _SURROGATE_ESCAPE_RE.finditer(text):
        start = match.start()
        before = start
        while before > 0 and text[before - 1] == "\\":
            before -= 1
        if (start - before) % 2 == 0:
            real[start] = text[start + 3] in "89abAB"
    for start, high in real.items():
        if high and real.get(start + 6) is not False:
            return True  # a high escape without a low one right after it
        if not high and real.get(start - 6) is not True:
            return True  # a low escape without a high one right before it
    return False


def _holds_lone_surrogate(value: Any) -> bool:
    """The general half: walk the decoded value (iteratively) for a key or string with a surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE_RE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_text(body: object, *, vendor: str | None, allow_str: bool = True) -> str:
    """The text of a JSON body: bytes must be UTF-8 (and ``str`` is taken as it is when allowed).

    Raises:
        PayloadError: The body is not bytes (or text), or not UTF-8 (``reason`` ``"not bytes"``,
            ``"not UTF-8"``).
    """
    if isinstance(body, bytes | bytearray | memoryview):
        try:
            return bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError(
                f"the body is not UTF-8 text (bad byte at offset {exc.start})",
                reason="not UTF-8",
                vendor=vendor,
            ) from None
    if allow_str and isinstance(body, str):
        return body
    raise PayloadError(
        f"the body must be bytes, not {type(body).__name__}: pass the raw request body",
        reason="not bytes",
        vendor=vendor,
    )


def decode_strict_json(
    text: str,
    *,
    vendor: str | None,
    from_utf8: bool = False,
    parse_float: Callable[[str], Any] = Decimal,
    parse_int: Callable[[str], Any] | None = None,
    raw: bytes | None = None,
) -> Any:
    """Decode JSON ``text`` under examkit's one strict policy (see the section comment above).

    ``parse_float`` must return an exact :class:`~decimal.Decimal` (a subclass may keep the literal);
    ``parse_int`` (default: the C decoder's ``int``) may do the same for integers. ``from_utf8`` says
    the text was decoded from UTF-8 bytes (so it holds no surrogate of its own). ``raw``, when given,
    is those UTF-8 bytes (``text`` is ``raw`` decoded): it lets the usual body take the fast path
    (:func:`_decode_fast`), which accepts exactly what the full check accepts.

    Raises:
        PayloadError: The text is not JSON, nested too deeply (``reason="too deep"``), repeats a key,
            holds ``NaN``/``Infinity`` or a lone surrogate (``reason="not JSON"``).
    """
    if raw is not None and parse_int is None:
        fast = _decode_fast(text, raw, parse_float)
        if fast is _TOO_DEEP:
            raise _too_deep(vendor)
        if fast is not _UNDECIDED:
            return fast
    if exceeds_json_depth(text):
        raise _too_deep(vendor)
    decoder = json.JSONDecoder(
        parse_float=parse_float,
        parse_int=parse_int,
        parse_constant=_reject_constant,
        object_pairs_hook=_object_without_duplicates,
    )
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            reason="not JSON",
            vendor=vendor,
        ) from None
    except _ConversionError as exc:
        raise PayloadError(
            f"the body is not acceptable JSON: {exc}", reason="not JSON", vendor=vendor
        ) from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise _too_deep(vendor) from None
    except (ValueError, ArithmeticError) as exc:  # for example an integer literal with too many digits
        raise PayloadError(
            f"the body is not acceptable JSON: {exc}", reason="not JSON", vendor=vendor
        ) from None
    if _has_lone_surrogate(text, value, from_utf8=from_utf8):
        raise PayloadError(
            "the body is not acceptable JSON: a string holds a lone surrogate (\\ud800 to \\udfff), "
            "which is not text",
            reason="not JSON",
            vendor=vendor,
        )
    return value


def load_json(body: bytes | str, *, vendor: str | None = None) -> Any:
    r"""Decode a JSON body strictly.

    The body must be UTF-8. Decimal fractions become :class:`~decimal.Decimal` (so ``"0.10"`` and
    ``0.10`` keep their digits), ``NaN`` and ``Infinity`` are refused, and so are an object that repeats
    a key (two parsers could disagree on which value counts) and a string holding a lone surrogate
    (``"\ud800"``, which no UTF-8 text can hold).

    Raises:
        PayloadError: The body is not UTF-8, not JSON, nested too deeply, repeats a key, or holds a lone
            surrogate.
    """
    text = json_text(body, vendor=vendor)
    raw = None if isinstance(body, str) else bytes(body)
    return decode_strict_json(text, vendor=vendor, from_utf8=raw is not None, raw=raw)


def _too_deep(vendor: str | None) -> PayloadError:
    return PayloadError(
        f"the body is nested too deeply (more than {MAX_JSON_DEPTH} levels of arrays and objects)",
        reason="too deep",
        vendor=vendor,
    )


# --- the fast path: the same verdicts, without a Python call per key-value pair -------------------
#
# The full check above hands every object's pairs to a Python hook to find a repeated key; that hook
# and its list of pairs cost about half as much again as decoding itself. The fast path lets the C
# decoder build each dict and only records how many keys each one kept (an object hook), then compares
# their sum with the number of key-value pairs written in the text: its colons outside strings. A
# repeated key keeps one key for two pairs, so the two numbers agree exactly when no object repeats a
# key. Those colons (and the brackets, for the depth) are found at C speed on the bytes: without a
# backslash in the body, every ``"`` opens or closes a string. Whenever the fast path is not sure (a
# backslash, a decoding error, counts that differ), it answers "undecided" and the full check runs,
# so every refusal, and its message, stays what it was.

_UNDECIDED: Final = object()
_TOO_DEEP: Final = object()
_STRUCTURE_ONLY: Final = bytes(b for b in range(256) if b not in b'":[]{}')
"""Every byte but the quote, the colon and the brackets: deleted, they leave the body's structure."""
_QUICK_NESTING_ROUNDS: Final = 8


class _CountingScanners(threading.local):
    """Per thread: one C scanner per ``parse_float`` hook, whose object hook records each dict's size."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.scanners: dict[Callable[[str], Any], Callable[[str, int], tuple[Any, int]]] = {}

    def scanner(self, parse_float: Callable[[str], Any]) -> Callable[[str, int], tuple[Any, int]]:
        scan = self.scanners.get(parse_float)
        if scan is None:
            record = self.sizes.append

            def counted(obj: dict[str, Any]) -> dict[str, Any]:
                record(len(obj))
                return obj

            decoder = json.JSONDecoder(
                parse_float=parse_float, parse_constant=_reject_constant, object_hook=counted
            )
            # The C scanner the decoder itself would use (typeshed does not describe it).
            scan = json.scanner.make_scanner(decoder)  # type: ignore[arg-type]
            if len(self.scanners) < _MAX_CACHED_SCANNERS:  # a new hook per call is not kept forever
                self.scanners[parse_float] = scan
        return scan


_MAX_CACHED_SCANNERS: Final = 8
_COUNTING: Final = _CountingScanners()
_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")
_WHITESPACE_CHARS: Final = " \t\n\r"  # ("" is in it too: an empty text goes to the full check)


def _whitespace_end(text: str, pos: int) -> int:
    """Where the JSON whitespace (the decoder's own rule) from ``pos`` ends."""
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos


def _outside_strings(raw: bytes) -> bytes | None:
    """The colons and brackets of the JSON bytes ``raw`` outside its strings, or ``None``.

    ``None`` when the body holds a backslash (an escaped quote would make the quotes' parity lie).
    Taking out two adjacent quotes never changes which other character is inside a string, so the
    many strings without a colon or bracket go at C speed before the rest are cut out.
    """
    if b"\\" in raw:
        return None
    marks = raw.translate(None, _STRUCTURE_ONLY).replace(b'""', b"")
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[::2])
    return marks


def _structure_too_deep(marks: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the outside-string ``marks`` nest more than ``limit`` levels (the depth rule exactly)."""
    steps = marks.translate(_DEPTH_STEPS, _NOT_BRACKETS)
    if steps.count(b"\x01") <= limit:
        return False
    if b"\x01" * (limit + 1) in steps:
        return True
    rest = steps
    for _ in range(_QUICK_NESTING_ROUNDS):  # each round takes out every innermost pair: one level
        rest = rest.replace(b"\x01\xff", b"")
        if not rest:
            return False
    return max(itertools.accumulate(memoryview(steps).cast("b")), default=0) > limit


def _decode_fast(text: str, raw: bytes, parse_float: Callable[[str], Any]) -> Any:
    """Decode as the full check would, or return ``_UNDECIDED`` (or ``_TOO_DEEP``) when not sure.

    ``text`` is ``raw`` decoded from UTF-8, so it holds no surrogate of its own; without a backslash
    it holds no escape either (so no lone surrogate), and every ``"`` opens or closes a string.
    """
    if b"\\" in raw:
        return _UNDECIDED
    # The marks first: translating allocates a copy the size of the body before it shrinks, and
    # before decoding there is no decoded value beside it (the peak stays the text plus the value).
    small = len(raw) <= _SMALL_BODY
    marks = raw.translate(_DIGITS_AS_ZERO, _NOT_MARKS) if small else raw.translate(None, _NOT_COLONS)
    counting = _COUNTING
    scan = counting.scanners.get(parse_float) or counting.scanner(parse_float)
    sizes = counting.sizes
    start = len(sizes)  # a hook that decodes JSON itself would add, and take off, its own sizes
    try:
        value, end = scan(text, _whitespace_end(text, 0) if text[:1] in _WHITESPACE_CHARS else 0)
        if end != len(text) and _whitespace_end(text, end) != len(text):
            return _UNDECIDED
        objects, keys = len(sizes) - start, sum(sizes[start:])
    except (StopIteration, ValueError, ArithmeticError, RecursionError):
        return _UNDECIDED
    finally:
        del sizes[start:]
    if not _shallow(marks, objects) and _structure_too_deep(_outside_strings(raw) or b""):
        return _TOO_DEEP
    # The pairs are at most the colons in the body less some known to stand inside strings. With the
    # quotes and digits kept (a small body), every pair's colon follows its key's closing quote,
    # while a colon inside a string mostly follows a digit or another colon (times, URLs). In a large
    # body, the marks are only colons and brackets, and the colons of the strings near the top are
    # counted on the decoded value. No more pairs than keys kept: no key was repeated.
    if small:
        pairs = marks.count(b'":')
    else:
        pairs = marks.count(b":")
        if pairs != keys:
            pairs -= _colons_near_top(value, pairs - keys)
    if pairs != keys:
        exact = _outside_strings(raw)
        if exact is None or exact.count(b":") != keys:
            return _UNDECIDED
    return value


_DIGITS_AS_ZERO: Final = bytes.maketrans(b"123456789", b"000000000")
_NOT_MARKS: Final = bytes(b for b in range(256) if b not in b'":[]{}0123456789')
"""Deleted from a small body to leave its marks: quotes, colons, brackets and digits (as ``0``)."""
_NOT_COLONS: Final = bytes(b for b in range(256) if b not in b":[]{}")
"""Deleted from a large body to leave its marks: colons and brackets."""
_SMALL_BODY: Final = 16 * 1024
"""Bodies up to this many bytes keep quotes and digits among their marks (one pass, no walk)."""


def _colons_near_top(value: Any, wanted: int) -> int:
    """Colons in the string values of a decoded top-level object and of its objects (up to ``wanted``).

    Each counted string is one string of the body, so this is at most the colons inside strings.
    The walk runs at C speed (no Python step per value) and stops once ``wanted`` are found.
    """
    if type(value) is not dict:
        return 0
    values = [*value.values()]
    kinds = [*map(type, values)]
    found = "".join(compress(values, map(operator.is_, kinds, repeat(str)))).count(":")
    for inner in compress(values, map(operator.is_, kinds, repeat(dict))):
        if found >= wanted:
            break
        inner_values = [*inner.values()]
        strings = compress(inner_values, map(operator.is_, map(type, inner_values), repeat(str)))
        found += "".join(strings).count(":")
    return found


def _shallow(marks: bytes, objects: int, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the decoded body surely nests at most ``limit`` levels (``False``: not sure).

    ``marks`` holds every bracket of the body, those inside strings too; ``objects`` is the number of
    JSON objects decoded. The true depth is at most the running depth over all the brackets plus the
    closing brackets that stand inside strings: every ``}`` but one per object, and at most every
    ``]``.
    """
    steps = marks.translate(_DEPTH_STEPS, _NOT_BRACKETS)
    if steps.count(b"\x01") <= limit:
        return True
    in_strings = marks.count(b"}") - objects + marks.count(b"]")
    rest = steps
    for rounds in range(1, _QUICK_NESTING_ROUNDS + 1):  # each round takes out every innermost pair
        rest = rest.replace(b"\x01\xff", b"")
        if not rest:
            return rounds + in_strings <= limit
    return False
