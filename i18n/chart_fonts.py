"""Fonts for charts: matplotlib's own DejaVu Sans for Latin letters and digits (charts look
as they always did), Noto Sans CJK SC for the Chinese a chart has when drawn for a Chinese
reader — glyphs, not empty boxes, on a fresh machine with no CJK font installed.

Noto Sans CJK SC (Google and Adobe, SIL Open Font License 1.1) comes with the PyPI package
``mplfonts`` (a dependency). Its file is added to matplotlib's font manager once; nothing
global is changed (no rcParams, no font cache rewrite, unlike ``mplfonts.use_font``): each
text that may hold words is drawn with ``font(size)``, whose family list lets matplotlib
(≥ 3.6) take each glyph from the first font that has it.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

log = logging.getLogger(__name__)

LATIN = "DejaVu Sans"
CJK = "Noto Sans CJK SC"
CJK_FILE = "NotoSansCJKsc-Regular.otf"
FAMILY = [LATIN, CJK]

_lock = threading.Lock()
_registered: list[str] = []


def cjk_font_path() -> str | None:
    """The Noto Sans CJK SC file ``mplfonts`` ships, or None when it is not installed."""
    try:
        from mplfonts.conf import FONT_DIR  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = os.path.join(FONT_DIR, CJK_FILE)
    return path if os.path.exists(path) else None


def family() -> list[str]:
    """The family list for chart text, with the CJK font registered (once per process).
    Without ``mplfonts`` (it is a dependency, so only a broken install) Latin alone:
    Chinese then shows as boxes, logged once."""
    with _lock:
        if not _registered:
            from matplotlib import font_manager

            path = cjk_font_path()
            if path is None:
                log.warning("mplfonts' %s not found: Chinese chart text will not render",
                            CJK_FILE)
                _registered.append(LATIN)
            else:
                font_manager.fontManager.addfont(path)
                _registered.extend(FAMILY)
        return list(_registered)


def font(size: float) -> Any:
    """``FontProperties`` for a chart's title, label or legend at ``size`` points."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=family(), size=size)
