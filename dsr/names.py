"""Dotted names: how workflows/ point at guards, effects, jobs and scopes in dsr's packages."""

from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import Any


@cache
def resolve(dotted: str) -> Callable[..., Any]:
    """Import the function named by `dotted` (package.module.function); fail loudly."""
    module_name, _, attribute = dotted.rpartition(".")
    function: Callable[..., Any] = getattr(import_module(module_name), attribute)
    return function
