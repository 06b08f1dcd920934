"""The typed, frozen configuration every layer reads.

One model per ``config.toml`` section. Unknown keys are errors (``extra="forbid"``) and types
are strict, so a typo or a quoted number is caught at start-up rather than at 3 a.m.
``config.toml`` documents every key; ``tests/settings/test_config_docs.py`` keeps the two in step.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from i18n import _, normalize
from settings.durations import Duration


def _to_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    return Duration.parse(value)


DurationField = Annotated[
    Duration,
    BeforeValidator(_to_duration),
    PlainSerializer(lambda d: str(d), return_type=str),
]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Probability = Annotated[float, Field(gt=0.0, lt=1.0)]
Scalar = float | int | str | bool


class Section(BaseModel):
    """Strict, frozen, and no NaN or infinity anywhere: a threshold of ``nan`` compares false
    with everything and would silence its alert without a word."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class ExchangeConfig(Section):
    name: str = "okx"
    api_url: str | None = None
    symbols: list[str] | str = Field(
        default_factory=lambda: ["BTC", "ETH", "SOL", "XRP", "DOGE", "LINK", "LTC", "AVAX"]
    )
    timeframe: DurationField = Duration.parse("15m")
    data_dir: str | None = None
    funding_dir: str | None = None
    mark_dir: str | None = None
    tiers_file: str | None = None
    timeout: DurationField = Duration.parse("10s")
    max_retries: int = Field(default=4, ge=0, le=20)
    seed: int = Field(default=7, ge=0, lt=2**32)
    sim_days: int = Field(default=45, ge=2, le=3650)

    @model_validator(mode="after")
    def _symbols_form(self) -> ExchangeConfig:
        if isinstance(self.symbols, str):
            head, _sep, n = self.symbols.partition(":")
            if head != "top" or not n.isdecimal() or int(n) < 1:
                raise ValueError(_('symbols must be a list or "top:N" (e.g. "top:30")'))
        elif not self.symbols:
            raise ValueError(_("symbols must name at least one symbol"))
        return self


class ScheduleConfig(Section):
    interval: DurationField = Duration.parse("15m")
    cascade_interval: DurationField = Duration.parse("1m")
    delay: DurationField = Duration.parse("5s")
    cascade_symbols: list[str] = Field(default_factory=lambda: ["BTC", "ETH", "SOL"])


class TelegramConfig(Section):
    api_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    allowed_chats: list[int] = Field(default_factory=list)
    admins: list[int] = Field(default_factory=list)
    signal_channel: int | str | None = None
    # the signal channel gets one pinned market-state message edited each cycle, and posts
    # only on cascade level changes, instead of every market-wide alert (chat.signal_board)
    signal_board: bool = False
    # the signal channel's language (a channel can't send /lang): en or zh
    signal_language: Literal["en", "zh_Hans"] = "en"
    max_retries: int = Field(default=3, ge=1, le=20)
    connect_timeout: DurationField = Duration.parse("5s")
    read_timeout: DurationField = Duration.parse("10s")
    write_timeout: DurationField = Duration.parse("10s")
    media_write_timeout: DurationField = Duration.parse("30s")
    pool_timeout: DurationField = Duration.parse("5s")
    connection_pool_size: int = Field(default=80, ge=8, le=1024)


    @field_validator("signal_language", mode="before")
    @classmethod
    def _language(cls, value: object) -> object:
        """"zh", "zh-CN" or "中文" mean Simplified Chinese, as /lang takes them."""
        return normalize(value) or value if isinstance(value, str) else value


class StorageConfig(Section):
    path: str = "hedgewatch.db"
    busy_timeout: DurationField = Duration.parse("5s")


class EngineConfig(Section):
    fast_window: DurationField = Duration.parse("1d")
    slow_window: DurationField = Duration.parse("30d")
    ewma_halflife: DurationField = Duration.parse("6h")
    min_periods: float = Field(default=0.8, gt=0.0, le=1.0)
    high_corr: Fraction = 0.7
    low_corr: Fraction = 0.3
    hysteresis: Fraction = 0.05
    min_regime_time: DurationField = Duration.parse("1h")
    regime_z: float = Field(default=2.0, gt=0.0, le=10.0)

    @model_validator(mode="after")
    def _thresholds(self) -> EngineConfig:
        if not self.low_corr < self.high_corr:
            raise ValueError(_("low_corr must be below high_corr"))
        if self.fast_window > self.slow_window:
            raise ValueError(_("fast_window must not be longer than slow_window"))
        return self


class RiskConfig(Section):
    leverage: float = Field(default=10.0, gt=0, le=200)
    taker_fee: float = Field(default=0.0005, ge=0.0, le=0.01)  # above 1 % a trade: a typo
    horizons: list[DurationField] = Field(
        default_factory=lambda: [Duration.parse("1h"), Duration.parse("24h")]
    )
    safe_touch_prob: Probability = 0.01
    liquidation_alert_prob: Probability = 0.05
    liquidation_alert_sigma: float = Field(default=2.0, gt=0, le=10.0)
    safe_distance: float = Field(default=0.12, gt=0, lt=1)
    hedge_min_r2: Probability = 0.25


class StrategiesConfig(Section):
    default: str = "min_variance"
    rebalance_threshold: float = Field(default=0.10, gt=0.0, le=1.0)
    params: dict[str, dict[str, Scalar]] = Field(default_factory=dict)


class DeliveryAges(Section):
    """How long an alert of each severity is retried before it is marked ``expired``."""

    info: DurationField = Duration.parse("30m")
    warning: DurationField = Duration.parse("30m")
    critical: DurationField = Duration.parse("2h")

    def ms(self, severity: str) -> int:
        age: Duration = getattr(self, severity)
        return age.ms


class AlertsConfig(Section):
    min_severity: Literal["info", "warning", "critical"] = "info"
    cooldown: DurationField = Duration.parse("1h")
    reminder: DurationField = Duration.parse("4h")
    stale_after: int = Field(default=2, ge=1)
    # hysteresis of the market-wide alerts (plugins/alert_rules/episodes.py)
    clear_after: DurationField = Duration.parse("1h")
    cascade_margin: float = Field(default=5.0, ge=0, lt=30)
    regime_margin: float = Field(default=0.5, ge=0)
    data_clear_after: DurationField = Duration.parse("30m")
    data_margin: float = Field(default=0.5, ge=0, lt=1)
    max_delivery_age: DeliveryAges = DeliveryAges()


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class MetricsConfig(Section):
    port: int | None = Field(default=None, ge=1, le=65535)
    listen: str = "127.0.0.1"


class TradingViewConfig(Section):
    """TradingView alerts in (``chat.tradingview``): where the intake listens and its limits."""

    enabled: bool = False
    public_url: str | None = None
    listen: str = "0.0.0.0"
    port: int = Field(default=8080, ge=1, le=65535)
    allowed_ips: list[str] = Field(default_factory=list)
    behind_proxy: bool = False
    dedup_window: DurationField = Duration.parse("10m")
    route_rate: int = Field(default=6, ge=1, le=1000)
    route_period: DurationField = Duration.parse("1m")
    enrich_timeout: DurationField = Duration.parse("2s")
    max_body: int = Field(default=8192, ge=256, le=1_000_000)

    @model_validator(mode="after")
    def _addresses(self) -> TradingViewConfig:
        for ip in self.allowed_ips:
            try:
                ipaddress.ip_network(ip, strict=False)
            except ValueError:
                raise ValueError(_('allowed_ips: {ip!r} is not an IP address or network '
                                   '(e.g. "52.89.214.238" or "10.0.0.0/8")').format(ip=ip)
                                 ) from None
        if self.public_url is not None:
            url = urlparse(self.public_url)
            if url.scheme not in ("http", "https") or not url.netloc:
                raise ValueError(_('public_url {url!r} must be an http(s) URL, e.g. '
                                   '"https://bot.example.com"').format(url=self.public_url))
        return self


class PluginsConfig(Section):
    disabled: list[str] = Field(default_factory=list)
    entry_points: bool = True


class Config(Section):
    """The whole configuration; ``Config()`` is the documented default."""

    exchange: ExchangeConfig = ExchangeConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    telegram: TelegramConfig = TelegramConfig()
    storage: StorageConfig = StorageConfig()
    engine: EngineConfig = EngineConfig()
    risk: RiskConfig = RiskConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    alerts: AlertsConfig = AlertsConfig()
    logging: LoggingConfig = LoggingConfig()
    plugins: PluginsConfig = PluginsConfig()
    metrics: MetricsConfig = MetricsConfig()
    tradingview: TradingViewConfig = TradingViewConfig()

    def with_overrides(self, **sections: dict[str, Any]) -> Config:
        """A copy with some keys replaced, validated like the file (used by CLI flags)."""
        data = self.model_dump(mode="json")
        for section, values in sections.items():
            data[section].update(values)
        return Config.model_validate(data, strict=False)
