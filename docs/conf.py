"""Sphinx configuration for the examkit documentation."""

from pathlib import Path

from examkit import __version__

project = "examkit"
author = "The examkit developers"
copyright = "2026, The examkit developers"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Members inherited from a private base (the clients' _ItepCalls, say) are documented on the public class;
# those of the standard library's bases are not.
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "inherited-members": ",".join(
        (
            "object,Mapping,BaseException,Exception,ValueError,TypeError,KeyError,LookupError,OSError",
            "str,int,float,tuple,dict,list,Enum,StrEnum,Generic,Protocol",
        )
    ),
}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# attrs generates __init__ source whose defaults read "attr_dict['oid'].default": show the values.
autodoc_preserve_defaults = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Every cross-reference must resolve (the build runs with -n -W). The standard library resolves offline
# through the inventory of Debian's python3.11-doc package (.ci/run installs it), or online elsewhere.
nitpicky = True
_LOCAL_PYTHON_INVENTORY = Path("/usr/share/doc/python3.11/html/objects.inv")
intersphinx_mapping = {
    "python": (
        "https://docs.python.org/3",
        str(_LOCAL_PYTHON_INVENTORY) if _LOCAL_PYTHON_INVENTORY.exists() else None,
    ),
}
# The libraries examkit builds on publish no inventory that this offline build can read; their names
# are left as plain text. Internal (examkit.*) references are never ignored.
nitpick_ignore_regex = [
    (
        r"py:.*",
        (
            r"(requests|urllib3|httpx|attrs?|cattrs?|django|flask|werkzeug|starlette|fastapi|redis|celery"
            r"|typing_extensions|pandas|openpyxl|xlrd|tqdm|pytest|_pytest)(\..*)?"
        ),
    ),
]

html_theme = "furo"
html_title = f"examkit {__version__}"
exclude_patterns = ["_build"]

# Type aliases, as annotations name them when the alias cannot be evaluated (imported for type checking
# only). The public ones resolve to their entry in the reference (each documented there with
# ``py:type``); the private ones are shown as what they stand for. See _aliases below.
_PUBLIC_ALIASES = {
    "SecretInput": "examkit.core.SecretInput",
    "Tolerance": "examkit.core.Tolerance",
    "Headers": "examkit.core.Headers",
    "SessionFilter": "examkit.integrity_advocate.SessionFilter",
    "ParticipantFilter": "examkit.integrity_advocate.ParticipantFilter",
    "Handler": "examkit.testing.http.Handler",
}
_PRIVATE_ALIASES = {
    "Encoding": "PercentEncoding | None",
    "LinkPath": "str | Sequence[str | int]",
    "Environment": "Literal['sandbox', 'production']",
    "ApiKeyScheme": "Literal['raw', 'bearer']",
    "DigestEncoding": "Literal['hex', 'HEX', 'base64']",
    "SequenceSource": "Callable[[], int]",
    "ProgressCallback": "Callable[[BulkOutcome, int, int], None]",
}


def _without_conversion_hints(stringify):  # type: ignore[no-untyped-def]
    """Show ``Annotated[X, NoneIf(...)]`` as ``X``: the metadata tells examkit how to read a payload,
    it is not part of the type a user sees or passes."""
    import functools
    import typing

    @functools.wraps(stringify)
    def wrapper(annotation, *args, **kwargs):  # type: ignore[no-untyped-def]
        if typing.get_origin(annotation) is typing.Annotated and all(
            type(meta).__module__.startswith("examkit.") for meta in annotation.__metadata__
        ):
            annotation = annotation.__origin__
        return stringify(annotation, *args, **kwargs)

    return wrapper


def _public_bases(app, name, obj, options, bases):  # type: ignore[no-untyped-def]
    """List public bases only: a base its module does not export (``_faults.FaultInjection``,
    ``core.auth.BasicAuth``) is replaced by its own bases, and ``Generic[T]`` is left out."""
    import sys
    import typing

    def public(base):  # type: ignore[no-untyped-def]
        module = getattr(base, "__module__", "") or ""
        qualname = getattr(base, "__qualname__", "")
        if typing.get_origin(base) is typing.Generic or base is typing.Generic:
            return []
        if module.startswith("examkit") and (
            any(part.startswith("_") for part in module.split("."))
            or qualname not in getattr(sys.modules.get(module), "__all__", ())
        ):
            return [b for parent in base.__bases__ if parent is not object for b in public(parent)]
        return [base]

    bases[:] = [b for base in list(bases) for b in public(base)] or bases[:0]


def _type_variables_as_text(app, env, node, contnode):  # type: ignore[no-untyped-def]
    """A type variable (``EventT_co``) or a private typing helper in a signature (the ``TypedDict`` of
    a client's ``**settings``, the ``Protocol`` a decorator returns) has no page: show its name as
    text, not as a broken link.

    Only targets that import as a ``TypeVar`` of examkit, or as an examkit object whose own name
    starts with ``_``, are handled; anything else stays an error under ``-n``.
    """
    import importlib
    import typing

    target = node.get("reftarget", "")
    if "." not in target and target.startswith("_") and (node.get("py:module") or "").startswith("examkit"):
        return contnode  # a private helper named bare in a signature (``**settings: _Settings``)
    if "." not in target and node.get("py:module"):
        target = f"{node['py:module']}.{target}"  # a bare name in a signature: its module's
    if node.get("refdomain") != "py" or not target.startswith("examkit."):
        return None
    module_name, _, attribute = target.rpartition(".")
    try:
        value = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        return None
    private = any(part.startswith("_") for part in target.split("."))
    if isinstance(value, typing.TypeVar) or private:
        return contnode
    return None


def _aliases(app, env, node, contnode):  # type: ignore[no-untyped-def]
    """Resolve an alias name left unevaluated in a signature (``SecretInput``)."""
    from docutils import nodes

    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").strip("'\"")
    if target == "datetime":
        # examkit imports the class (``from datetime import datetime``): the name is never the module.
        from sphinx.ext import intersphinx

        resolved = node.deepcopy()
        resolved["reftarget"] = "datetime.datetime"
        return intersphinx.missing_reference(app, env, resolved, contnode)
    for prefix in ("examkit.core.", ""):
        name = target.removeprefix(prefix)
        if name in _PUBLIC_ALIASES:
            domain = env.get_domain("py")
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, "class", _PUBLIC_ALIASES[name], node, contnode
            )
        if name in _PRIVATE_ALIASES and target == name:
            return nodes.Text(_PRIVATE_ALIASES[name])
    return None


def setup(app):  # type: ignore[no-untyped-def]
    import sys

    import sphinx.util.typing

    for name in ("stringify_annotation", "restify"):
        original = getattr(sphinx.util.typing, name)
        patched = _without_conversion_hints(original)
        for module in list(sys.modules.values()):
            if (getattr(module, "__name__", "") or "").startswith("sphinx") and getattr(
                module, name, None
            ) is original:
                setattr(module, name, patched)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("missing-reference", _type_variables_as_text)
    app.connect("missing-reference", _aliases)
