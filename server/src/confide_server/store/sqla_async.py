"""SQLAlchemy's asyncio engine, without the ORM the relay does not use.

The relay speaks SQLAlchemy Core through ``AsyncEngine`` and ``AsyncConnection``. Importing
them from ``sqlalchemy.ext.asyncio`` runs that package's ``__init__``, which also imports its
ORM session classes and, with them, all of ``sqlalchemy.orm``: about a tenth of
``confide serve``'s start (docs/benchmarks.md), which is the time a restarted relay is away.

So, before anything else imports the package, this module registers it as a module that has
its spec and its path but has not run yet: ``sqlalchemy.ext.asyncio.engine`` then loads
alone. The first time anyone asks the package for anything other than one of its
submodules (``from sqlalchemy.ext.asyncio import AsyncSession``, as Alembic's env does),
the real ``__init__`` runs into that same module object, so such code sees the package it
always saw. Only Python's documented import machinery is used (``importlib.util``, a
module ``__getattr__``); if the package was imported already, nothing is changed.
tests/server/test_serve_imports.py checks that serving leaves the ORM out.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import sys
import threading

PACKAGE = "sqlalchemy.ext.asyncio"


def _register_unexecuted(name: str) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)
    submodules = {info.name for info in pkgutil.iter_modules(spec.submodule_search_locations)}
    lock = threading.Lock()
    loader = spec.loader

    def __getattr__(attribute: str) -> object:
        # A submodule is left to the import system, which loads it into the package.
        if attribute in submodules or attribute.startswith("__"):
            raise AttributeError(attribute)
        with lock:
            if package.__dict__.get("__getattr__") is __getattr__:
                del package.__dict__["__getattr__"]
                loader.exec_module(package)
        return getattr(package, attribute)

    package.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = package


if PACKAGE not in sys.modules:
    _register_unexecuted(PACKAGE)

from sqlalchemy.ext.asyncio.engine import (  # noqa: E402 - after the registration above
    AsyncConnection,
    AsyncEngine,
    create_async_engine,
)

__all__ = ["AsyncConnection", "AsyncEngine", "create_async_engine"]
