"""One registry per config group: ``conf/<group>/<option>.yaml`` names a value that a module
registers under, so a newcomer goes from the YAML to its code in one hop, and an unknown value is
refused with the list of known ones (no if-chains spread over the package).

    JUDGES = Registry("judge", "reasonkit.judging")       # <package>.<option> is imported lazily

    @JUDGES.register("math")
    class MathJudge: ...

    JUDGES.get("math")  # imports reasonkit.judging.math if "math" is not registered yet
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name → implementation for one config group.

    ``package`` is where options live: ``get(name)`` imports ``<package>.<module>`` on first use
    (``modules`` maps an option to its module when the names differ), so heavy backends (vLLM,
    bubblewrap judges) are only imported when a config asks for them.
    """

    def __init__(self, group: str, package: str | None = None, modules: dict[str, str] | None = None):
        self.group = group
        self.package = package
        self.modules = dict(modules or {})
        self._items: dict[str, T] = {}

    def register(self, *names: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            for n in names:
                if n in self._items and self._items[n] is not obj:
                    raise ValueError(f"{self.group}: option {n!r} registered twice")
                self._items[n] = obj
            return obj
        return deco

    def names(self) -> list[str]:
        return sorted(set(self._items) | set(self.modules))

    def _load(self, name: str) -> None:
        if name in self._items or self.package is None:
            return
        module = self.modules.get(name)
        if module is None:
            return
        importlib.import_module(f"{self.package}.{module}")

    def get(self, name: str) -> T:
        self._load(name)
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"{self.group}: unknown option {name!r}; expected one of "
                           f"{', '.join(self.names())}") from None

    def __contains__(self, name: Any) -> bool:
        return name in self.names()
