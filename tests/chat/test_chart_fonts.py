"""Charts drawn for a Chinese reader show Chinese glyphs on a fresh machine: the Noto Sans
CJK SC file from mplfonts is registered and chart text falls back to it, while Latin text
and digits stay in DejaVu Sans."""

from __future__ import annotations

import os
import warnings

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont

import i18n
from chat.alert_charts import gauge_png
from chat.charts import equity_png
from i18n.chart_fonts import CJK, CJK_FILE, LATIN, cjk_font_path, family, font

T0 = 1_772_323_200_000
WORDS = "强平价"


def drawn(text: str, props: FontProperties) -> tuple[bytes, list[str]]:
    """``text`` drawn alone (its pixels) and the warnings drawing it raised."""
    fig = Figure(figsize=(1, 1), dpi=100)
    canvas = FigureCanvasAgg(fig)
    fig.text(0.2, 0.3, text, fontproperties=props)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        canvas.draw()
    return bytes(canvas.buffer_rgba()), [str(w.message) for w in caught]


def glyphs(props: FontProperties) -> tuple[set[bytes], list[str]]:
    """Each character of ``WORDS`` drawn alone: distinct pictures are glyphs, one picture
    for all is the missing-glyph box."""
    pictures, said = set(), []
    for ch in WORDS:
        picture, caught = drawn(ch, props)
        pictures.add(picture)
        said += caught
    return pictures, said


def test_the_cjk_font_comes_from_mplfonts_and_is_found():
    path = cjk_font_path()
    assert path is not None and path.endswith(CJK_FILE)
    assert family() == [LATIN, CJK]
    found = findfont(FontProperties(family=[CJK]), fallback_to_default=False)
    assert os.path.realpath(found) == os.path.realpath(path)


def test_chinese_text_is_drawn_with_glyphs_not_boxes():
    boxes, dejavu_said = glyphs(FontProperties(family=[LATIN], size=12))
    ours, said = glyphs(font(12))
    assert len(boxes) == 1 and any("missing from font" in w for w in dejavu_said)  # control
    assert len(ours) == len(WORDS) and not any("missing" in w for w in said), said


def test_latin_text_stays_in_dejavu_sans():
    assert findfont(FontProperties(family=family())) == findfont(
        FontProperties(family=[LATIN]))


@pytest.mark.parametrize("draw", [
    lambda: gauge_png({"symbol": "BTC-USDT-SWAP", "side": "long", "distance_sigma": 1.4,
                       "threshold_sigma": 1.0, "touch_prob": 0.12,
                       "liquidation_price": 54_000.0, "price": 60_000.0, "time_ms": T0}),
    lambda: equity_png([(T0, 0.0), (T0 + 86_400_000, 120.0)], title="已实现盈亏 +120.00 USDT",
                       now=(T0 + 2 * 86_400_000, 150.0)),
])
def test_charts_in_chinese_warn_of_no_missing_glyph(draw):
    with i18n.use("zh_Hans"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert draw()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [w for w in caught if "missing" in str(w.message)]
