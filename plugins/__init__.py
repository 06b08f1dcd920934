"""hedgewatch plugins: hook specifications, the plugin manager and the built-in plugins.

A plugin author writes one import::

    from plugins import hookimpl

    @hookimpl
    def hedgewatch_register_strategies():
        return [MyStrategy]
"""

import pluggy

hookimpl = pluggy.HookimplMarker("hedgewatch")
hookspec = pluggy.HookspecMarker("hedgewatch")

__all__ = ["hookimpl", "hookspec"]
