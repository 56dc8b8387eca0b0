"""Settings, read from the environment (prefix ``FANBASE_``); every setting is listed in the README."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FANBASE_", extra="ignore")

    data_dir: Path = Field(default=Path("fanbase-data"), description="Where the SQLite file and secrets live.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under data_dir if unset.")
    redis_url: str | None = Field(default=None, description="Redis for gates, rate limits, revocations at scale.")
    secret_key: str | None = Field(default=None, description="Signs tokens; generated into data_dir if unset.")
    sandbox: bool = Field(default=False, description="Sandbox mode: staff may move the clock forward.")
    timezone: str = Field(default="Asia/Shanghai", description="The store's time zone.")
    payment_window_seconds: int = Field(default=30 * 60, ge=60, description="Time to pay an order.")
    return_window_days: int = Field(default=7, ge=0, description="Delivered -> completed after this.")
    token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60, description="Bearer token lifetime.")
    sandbox_webhook_secret: str = Field(default="sandbox-webhook-secret",
                                        description="HMAC key of the sandbox gateway.")
    public_url: str = Field(default="http://127.0.0.1:8000", description="Base URL used in links (pay_url).")
    run_jobs_in_process: bool = Field(default=True, description="Run scheduled jobs inside `serve`.")
    job_interval_seconds: float = Field(default=5.0, gt=0, description="How often scheduled jobs run.")
    product_cache_seconds: float = Field(default=1.0, ge=0, description="How long a product page answer "
                                         "may be reused (stock shown may lag this much; checkout is exact).")
    purchase_rate_per_customer: int = Field(default=5, ge=0, description="Flash-sale purchase attempts per "
                                            "customer per second (0: no limit).")
    purchase_rate_per_ip: int = Field(default=200, ge=0, description="Flash-sale purchase attempts per client "
                                      "address per second (0: no limit).")
    flash_gate_stale_after_seconds: float = Field(default=15.0, gt=0, description="Redis gate: takes that a "
                                                  "process has held this long without writing them (it died, or its "
                                                  "writer is stuck) are given back by rebuilding the sale.")
    flash_gate_key_prefix: str = Field(default="fanbase:fs", min_length=1, description="Redis gate: prefix of the "
                                       "keys of every sale (deployments or tests sharing one Redis use their own).")
    sqlite_synchronous: str = Field(default="NORMAL", description="SQLite PRAGMA synchronous (WAL: NORMAL is durable "
                                    "against process crashes).")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'fanbase.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The token-signing key: from the environment, else one generated once and kept in data_dir
        so that several processes on one machine agree on it."""
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret.key"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            try:
                tmp.rename(path) if not path.exists() else tmp.unlink()
            except FileExistsError:  # another process won the race
                tmp.unlink(missing_ok=True)
        return path.read_text().strip()
