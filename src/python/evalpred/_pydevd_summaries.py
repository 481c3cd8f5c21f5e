"""pydevd hooks that show NumPy arrays with evalpred's summaries (._summary) in a paused frame's Variables.

pydevd (debugpy's engine) asks its extension lists for a TypeResolveProvider (an object's children) and a
StrPresentationProvider (its value text) before its own ndarray resolver. Its usual discovery walks a
`pydevd_plugins.extensions` namespace package, whose order across sys.path entries differs between a pip
debugpy (vendored pydevd) and Debian's (unbundled): `register()` instead puts these providers first in the
lists of the pydevd this process runs, once debugpy is listening (._debugpy.start).
"""
import numpy as np

from . import _summary


class ArraySummaries:
    """ndarray -> 'int64[4, 12]  min 0, …' with shape, dtype, statistics, decoded and rows as children."""

    def can_provide(self, type_object, type_name):
        return issubclass(type_object, (np.ndarray, _summary.Statistics))

    # StrPresentationProvider
    def get_str(self, val):
        if isinstance(val, _summary.Statistics):
            return repr(val)
        return _summary.value_line(val)

    # TypeResolveProvider
    def get_contents_debug_adapter_protocol(self, obj, fmt=None):
        if isinstance(obj, _summary.Statistics):
            return [(k, v, None) for k, v in obj.fields.items()]
        return _summary.children(obj)

    def get_dictionary(self, obj):
        return {name: value for name, value, _ in self.get_contents_debug_adapter_protocol(obj)}

    def resolve(self, obj, attribute):
        return self.get_dictionary(obj).get(attribute)


class ScalarText:
    """NumPy scalars (an array's elements) as NumPy prints them: 0.9 for a float32, not np.float32(0.9)."""

    def can_provide(self, type_object, type_name):
        return issubclass(type_object, np.generic)

    def get_str(self, val):
        return str(val)


def register():
    """Put our providers first in pydevd's lists (pydevd is imported by then: debugpy.listen loaded it)."""
    from _pydevd_bundle import pydevd_extension_utils, pydevd_xml
    from _pydevd_bundle.pydevd_extension_api import StrPresentationProvider, TypeResolveProvider

    resolvers = pydevd_extension_utils.extensions_of_type(TypeResolveProvider)
    strs = pydevd_extension_utils.extensions_of_type(StrPresentationProvider)
    if not any(isinstance(p, ArraySummaries) for p in resolvers):
        summaries = ArraySummaries()
        resolvers.insert(0, summaries)
        strs.insert(0, summaries)
        strs.insert(1, ScalarText())
    # Types looked up before this call keep pydevd's choice in its caches: forget them.
    handler = getattr(pydevd_xml, "_TYPE_RESOLVE_HANDLER", None)
    for cache in ("_type_to_resolver_cache", "_type_to_str_provider_cache"):
        getattr(handler, cache, {}).clear()
