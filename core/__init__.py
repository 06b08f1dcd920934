"""The hedgewatch engine: pure functions over numpy arrays and frozen dataclasses.

Nothing in this package does I/O, reads the clock, or imports the outer layers (exchange,
chat, storage, plugins); ``tests/core/test_purity.py`` checks that with ``ast``.
"""
