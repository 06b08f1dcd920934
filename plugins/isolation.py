"""Crash isolation for hook implementations, done so that pluggy still does the calling.

pluggy stops a hook call at the first exception. hedgewatch wants one plugin's bug to cost
only that plugin's contribution, so before a plugin is registered each of its hook
implementations is wrapped in a guard with the same name, signature and hookimpl options:

- a plain implementation that raises returns ``None`` instead (pluggy leaves ``None`` out of
  the results, and a ``firstresult`` hook goes on to the next implementation);
- a register hook (``hedgewatch_register_*``) that returns something other than a list is
  reported and contributes nothing;
- a ``wrapper=True`` or old-style ``hookwrapper=True`` implementation that raises before or
  after its ``yield`` becomes transparent: the call goes on as if it were not there, with
  the result (or the exception) the other implementations produced.

Because pluggy sees the guards with the original options, ``tryfirst``/``trylast``,
``firstresult``, wrappers and ``historic`` hooks behave exactly as pluggy documents.
``BaseException`` that is not an ``Exception`` (cancellation, Ctrl-C) is never swallowed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from typing import Any

Report = Callable[[str, BaseException], None]  # (hook name, error)
Record = Callable[[list[Any] | tuple[Any, ...]], None]  # a register hook's list, as returned


def _plain(fn: Callable[..., Any], hook: str, report: Report,
           record: Record | None) -> Callable[..., Any]:
    register = hook.startswith("hedgewatch_register_")

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except Exception as e:
            report(hook, e)
            return None
        if register and result is not None and not isinstance(result, (list, tuple)):
            report(hook, TypeError(f"returned {type(result).__name__}, expected a list"))
            return None
        if register and record is not None and result is not None:
            record(result)
        return result

    return guarded


def _wrapper(fn: Callable[..., Any], hook: str, report: Report) -> Callable[..., Any]:
    """A new-style ``wrapper=True`` implementation: ``result = yield``; returns the result."""

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
        try:
            gen = fn(*args, **kwargs)
            next(gen)
        except StopIteration:
            report(hook, RuntimeError("wrapper did not yield"))
            return (yield)
        except Exception as e:
            report(hook, e)
            return (yield)
        try:
            result = yield
        except BaseException as inner:  # an inner implementation raised: let it see that
            try:
                gen.throw(inner)
            except StopIteration as stop:
                return stop.value
            except BaseException as e:
                if e is not inner and isinstance(e, Exception):
                    report(hook, e)  # a broken teardown does not change the outcome
                    raise inner from None
                raise
            report(hook, RuntimeError("wrapper has a second yield"))
            gen.close()
            raise inner
        try:
            gen.send(result)
        except StopIteration as stop:
            return stop.value
        except Exception as e:
            report(hook, e)
            return result
        report(hook, RuntimeError("wrapper has a second yield"))
        gen.close()
        return result

    return guarded


def _hookwrapper(fn: Callable[..., Any], hook: str, report: Report) -> Callable[..., Any]:
    """An old-style ``hookwrapper=True`` implementation: ``outcome = yield``."""

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Generator[None, Any, None]:
        try:
            gen = fn(*args, **kwargs)
            next(gen)
        except StopIteration:
            report(hook, RuntimeError("hookwrapper did not yield"))
            yield
            return
        except Exception as e:
            report(hook, e)
            yield
            return
        outcome = yield
        try:
            gen.send(outcome)
        except StopIteration:
            return
        except Exception as e:
            report(hook, e)
            return
        report(hook, RuntimeError("hookwrapper has a second yield"))
        gen.close()

    return guarded


def guard(fn: Callable[..., Any], hook: str, opts: dict[str, Any], marker: str,
          report: Report, record: Record | None = None) -> Callable[..., Any]:
    """``fn`` wrapped for isolation, carrying the same hookimpl options under ``marker``.
    ``record`` sees every list a register hook returns (to name the plugin behind it)."""
    if opts.get("wrapper"):
        guarded = _wrapper(fn, hook, report)
    elif opts.get("hookwrapper"):
        guarded = _hookwrapper(fn, hook, report)
    else:
        guarded = _plain(fn, hook, report, record)
    setattr(guarded, marker, dict(opts))
    return guarded


class IsolatedPlugin:
    """What pluggy registers in place of a plugin: the plugin's hook implementations, each
    guarded. ``plugin`` is the original object (a module, a class or an instance)."""

    def __init__(self, plugin: Any) -> None:
        self.plugin = plugin

    def __repr__(self) -> str:
        return f"<isolated {self.plugin!r}>"
