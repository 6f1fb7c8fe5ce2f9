"""How every examkit package presents its public face: lazy names, and names that read as the face.

Each package ``__init__`` imports its eager names, lists its lazy ones twice (under
``if TYPE_CHECKING:`` so that type checkers and IDEs follow them, and in a mapping for the run time),
and ends with::

    __getattr__, __dir__ = lazy_exports(__name__, __all__, _LAZY)
    publish(__name__, globals(), __all__)

The vendor packages list every name as lazy (:mod:`examkit.core` the ones a verifier does not need),
so that importing one verifier loads that verifier's modules and no others. The first use of a name
loads its submodule and publishes all of the face's names from it at once. A verifier's module that
needs its models only to build a typed event binds them with :func:`deferred` or :func:`defer`; they
load with :func:`load`, which publishes them the same way.

:func:`publish` rewrites ``__module__`` of the classes and functions defined inside the package so
that a ``repr``, a traceback or the API reference says ``examkit.itep.ExamResult`` rather than
``examkit.itep.models.ExamResult`` (httpx and openai-python do the same). Before it does, it resolves
the string annotations of attrs classes against their defining module, because the converters (and
:func:`attrs.resolve_types`) would otherwise look them up in the package face and fail.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import typing
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

__all__: list[str] = []

# For each package face built by lazy_exports: its module and which submodule defines each lazy name.
_FACES: dict[str, tuple[ModuleType, dict[str, str]]] = {}
# For each module not loaded yet, the stand-ins waiting for it (deferred, defer): where each is bound,
# under which key, and which attribute of the module replaces it (None: the module itself).
_WAITING: dict[str, list[tuple[dict[str, Any], str, str | None]]] = {}


def _give_way(name: str, module: ModuleType) -> None:
    """Replace every stand-in waiting for the module ``name`` by the real module or attribute."""
    for namespace, key, attribute in _WAITING.pop(name, ()):
        namespace[key] = module if attribute is None else getattr(module, attribute)


def _is_face(module: str) -> bool:
    return hasattr(sys.modules.get(module), "__path__")


def _resolve_annotations(cls: type, namespace: dict[str, Any]) -> None:
    # Subclasses and users' tools (typing.get_type_hints) evaluate a class's own string annotations
    # in the module its __module__ names: keep them as resolved objects.
    own = inspect.get_annotations(cls)
    if any(isinstance(v, str) for v in own.values()):
        hints = typing.get_type_hints(cls, globalns=namespace, include_extras=True)
        cls.__annotations__ = {name: hints.get(name, hint) for name, hint in own.items()}


def _rewrite(package: str, value: object, *, claim: bool = False) -> None:
    module = getattr(value, "__module__", None)
    if not isinstance(module, str) or not module.startswith(package + "."):
        return  # defined elsewhere (another package, the standard library): not ours to rename
    if _is_face(module) and not claim:
        return  # already the name of a deeper face (``examkit.itep.RegistrationError``): keep it
    if isinstance(value, type):
        if hasattr(value, "__attrs_attrs__"):
            import attrs  # noqa: PLC0415 - attrs is loaded already by any attrs class

            # Bases first: a base that no face has published yet (core.webhook.Verified, whose face
            # loads lazily) still holds string annotations, which only its own module can resolve.
            for base in reversed(value.__mro__[1:]):
                base_module = sys.modules.get(base.__module__)
                if base.__module__.startswith("examkit.") and base_module is not None:
                    _resolve_annotations(base, vars(base_module))
            namespace = vars(sys.modules[module])
            attrs.resolve_types(value, globalns=namespace)
            _resolve_annotations(value, namespace)
        try:
            value.__module__ = package
        except (AttributeError, TypeError):  # pragma: no cover - a built-in type
            return
    elif callable(value) and hasattr(value, "__globals__"):
        value.__module__ = package


def publish(
    package: str, namespace: Mapping[str, object], names: Iterable[str], *, claim: bool = False
) -> None:
    """Make each public name defined below ``package`` read as ``package.Name``.

    Names that are not yet loaded (the lazy ones) are rewritten by :func:`lazy_exports` when first
    used. Constants and objects defined outside ``package`` are left as they are, and so are names
    that already read as a deeper package face (a vendor's error re-exported by ``examkit``), unless
    ``claim`` is true (``examkit`` claims the core errors: ``examkit.ApiError``).
    """
    for name in names:
        if name in namespace:
            _rewrite(package, namespace[name], claim=claim)


def _imported(module: ModuleType | None) -> bool:
    """Whether ``module`` is loaded and has finished running (a module mid-import is left alone)."""
    return module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False)


def _load_group(package: str, source: str) -> ModuleType:
    """Import ``source`` (``".models"``) of ``package`` and publish every lazy name it defines.

    The names of the submodules that came with it (``models`` brings ``registration``) are published
    too, so that a face's names read as the face whichever way their modules were loaded.
    """
    face, table = _FACES[package]
    loaded = importlib.import_module(source, package)
    for name, where in table.items():
        if name not in vars(face):
            module = sys.modules.get(package + where)
            if module is loaded or (_imported(module) and hasattr(module, name)):
                value = getattr(module, name)
                _rewrite(package, value)
                setattr(face, name, value)
    for where in set(table.values()):
        module = sys.modules.get(package + where)
        if module is not None and package + where in _WAITING and (module is loaded or _imported(module)):
            _give_way(package + where, module)
    return loaded


def load(name: str) -> ModuleType:
    """Import the module ``name`` as first use through its package face would.

    A module that defers importing a sibling (``examkit.itep.models``, on the first typed event) loads
    it with this, so the sibling's public names read as the face (``examkit.itep.ExamResult``) however
    the sibling came to be loaded first.
    """
    package, _, leaf = name.rpartition(".")
    if package:
        importlib.import_module(package)  # a face registers itself when it runs
    if package in _FACES:
        return _load_group(package, "." + leaf)
    module = importlib.import_module(name)
    _give_way(name, module)
    return module


class _Deferred:
    """Stands in a module's namespace for a sibling module until first use, then gives way to it."""

    __slots__ = ("_alias", "_name", "_namespace")

    def __init__(self, name: str, namespace: dict[str, Any], alias: str) -> None:
        self._name = name
        self._namespace = namespace
        self._alias = alias
        _WAITING.setdefault(name, []).append((namespace, alias, None))

    def __getattr__(self, attribute: str) -> Any:
        module = load(self._name)
        self._namespace[self._alias] = module  # later uses find the module itself: no cost per call
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, not loaded yet>"


def deferred(name: str, namespace: dict[str, Any], alias: str) -> Any:
    """Bind ``alias`` in ``namespace`` to the module ``name``, imported (with :func:`load`) on first use.

    A verifier's module writes, instead of importing its models at the top::

        if TYPE_CHECKING:
            from examkit.itep import models as _models
        else:  # the models (and cattrs) load with the first typed result
            _models = deferred("examkit.itep.models", globals(), "_models")

    and reads ``_models.CONVERTER`` where it builds a typed result. The first attribute read imports
    the module and rebinds ``alias`` to it (as :func:`defer` does), so every later read is a plain
    module attribute.
    """
    return _Deferred(name, namespace, alias)


class _DeferredName:
    """Stands in a module's namespace for a name of a sibling module, until the name is first used."""

    __slots__ = ("_module", "_name", "_namespace")

    def __init__(self, module: str, name: str, namespace: dict[str, Any]) -> None:
        self._module = module
        self._name = name
        self._namespace = namespace
        _WAITING.setdefault(module, []).append((namespace, name, name))

    def _resolve(self) -> Any:
        value = getattr(load(self._module), self._name)
        self._namespace[self._name] = value  # later uses find the value itself: no cost per call
        return value

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._resolve()(*args, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._resolve(), attribute)

    def __instancecheck__(self, instance: object) -> bool:
        return isinstance(instance, self._resolve())

    def __repr__(self) -> str:
        return f"<{self._module}.{self._name}, not loaded yet>"


def defer(module: str, namespace: dict[str, Any], *names: str) -> None:
    """Bind each of ``names`` in ``namespace`` to the same name of ``module``, loaded on first use.

    For a class or function a module only calls (never passes along as a value), where rewriting each
    call site is not worth it::

        if TYPE_CHECKING:
            from examkit.integrity_advocate.models import AmxAuthorization
        else:  # the models load with the first request checked
            defer("examkit.integrity_advocate.models", globals(), "AmxAuthorization")

    The first call (or attribute read) imports ``module`` with :func:`load`, which rebinds every name
    waiting for that module, wherever it was deferred, to the real object: every later call is a
    plain call. Loading the module through its package face does the same.
    """
    for name in names:
        namespace[name] = _DeferredName(module, name, namespace)


def lazy_exports(
    package: str, names: Iterable[str], lazy: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of a package whose ``lazy`` names load on first use.

    ``lazy`` maps a public name to the submodule (relative to ``package``, such as ``".client"``) that
    defines it. On first access to any of them the submodule is imported, and each of the names it
    defines is cached in the package with its ``__module__`` rewritten like the eager names.
    """
    public = sorted(set(names))
    table = dict(lazy)
    module = sys.modules[package]
    _FACES[package] = (module, table)

    def module_getattr(name: str) -> Any:
        source = table.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        _load_group(package, source)
        return vars(module)[name]

    def module_dir() -> list[str]:
        return sorted(set(vars(module)) | set(public))

    module_getattr.__name__ = module_getattr.__qualname__ = "__getattr__"
    module_dir.__name__ = module_dir.__qualname__ = "__dir__"
    return module_getattr, module_dir
