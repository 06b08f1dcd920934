"""Charts made for a phone: drawn at 150 DPI, at most 1,280 px a side, cropped to what is
drawn, titled with rounded values and the data's time. The PNGs are decoded and measured."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from chat.alert_charts import gauge_png, price_text
from chat.charts import DPI, MAX_PX, corr_heatmaps, data_time, equity_png

T0 = 1_772_323_200_000  # 2026-03-01 00:00 UTC


def image(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img


def white_margin(img: Image.Image) -> float:
    """The share of the width taken by all-white columns at the left and right edges."""
    a = np.asarray(img.convert("L"))
    cols = np.where((a < 250).any(axis=0))[0]
    return 1 - (cols[-1] - cols[0] + 1) / a.shape[1]


def phone_sized(img: Image.Image, min_side: int = 300) -> None:
    assert max(img.size) <= MAX_PX and min(img.size) >= min_side, img.size
    assert round(img.info["dpi"][0]) == DPI


def test_the_corr_heatmap_is_cropped_to_the_matrices_and_phone_sized():
    labels = ["BTC", "ETH", "SOL", "XRP", "DOGE", "LINK", "LTC", "AVAX"]
    rng = np.random.default_rng(1)
    m = np.clip(rng.normal(0.5, 0.2, (8, 8)), -1, 1)
    np.fill_diagonal(m, 1.0)
    img = image(corr_heatmaps(labels, [("1d", m), ("30d", m)],
                              title=f"Correlation 1d vs 30d · {data_time(T0)}"))
    phone_sized(img)
    assert white_margin(img) < 0.05  # was half white space


def test_thirty_symbols_still_fit_the_width():
    labels = [f"S{i}" for i in range(30)]
    img = image(corr_heatmaps(labels, [("1d", np.eye(30)), ("30d", np.eye(30))]))
    phone_sized(img)


def test_the_equity_curve_is_phone_sized():
    points = [(T0 + k * 86_400_000, float(v)) for k, v in enumerate([120, -40, 300, 250])]
    img = image(equity_png(points, title="Realised +250.00 USDT", now=(T0 + 5 * 86_400_000,
                                                                       410.0)))
    phone_sized(img)
    assert img.size[0] > img.size[1]  # landscape: a phone shows it full width
    image(equity_png([], title="nothing closed yet", now=(T0, 12.5)))  # no close: still draws


def test_the_gauge_title_rounds_its_prices():
    assert price_text(85886.4999999) == "85,886.5" and price_text(0.0123456) == "0.01235"
    assert price_text(None) == "n/a" and price_text(float("nan")) == "n/a"
    img = image(gauge_png({"symbol": "BTC-USDT-SWAP", "side": "long",
                           "liquidation_price": 85886.4999999, "price": 95000.0,
                           "distance_sigma": 2.2, "threshold_sigma": 2.0, "touch_prob": 0.04,
                           "time_ms": T0}))
    phone_sized(img, min_side=200)  # a strip: full width, a fifth as tall


def test_data_time_reads_as_a_bar_close():
    assert data_time(T0 + 15 * 60_000) == "2026-03-01 00:15 UTC"
    assert data_time(None) == "time unknown"


async def test_corr_and_pnl_answers_carry_a_dated_chart(chat):
    r = await chat("/corr")
    assert r.caption is not None and r.caption.endswith(" UTC")
    assert "Correlation" in r.caption
    phone_sized(image(r.chart()))
    await chat("/open btc long 0.5 @60000 10x")
    await chat("/close 1 @61000")
    await chat("/open eth short 2 @3000 10x")
    r = await chat("/pnl full")
    assert r.caption.startswith("Realised +") and "1 close(s)" in r.caption
    assert r.caption.endswith(" UTC")
    phone_sized(image(r.chart()))
