"""The config file: backends, aliases and the gateway's own settings.

The fixed core (backends, aliases, `${VAR}` secrets, `sim://` simulators) is
shared/design/config.md; every other key is documented in config.example.yaml. Unknown keys
are errors with a "did you mean"; every error names the file, the key path and what is allowed;
secret values are never echoed back.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.adapters import adapter_class, api_versions
from gateway.config_checks import (
    bool_number_issues,
    duplicate_keys,
    name_issues,
    raise_at_locations,
    raw_name_issues,
)
from gateway.errors import ConfigError
from gateway.export.settings import ExportSettings
from gateway.resilience.settings import BreakerSettings, CacheSettings, RedisSettings, RetrySettings
from gateway.schemas.job import VendorName
from gateway.schemas.problem import DEFAULT_PROBLEM_BASE
from gateway.telemetry.settings import TelemetrySettings
from gateway.vendors.registry import VendorPluginError, registered_vendor, vendor_spec

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
SIM_SCHEME = "sim://"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_KEYS = frozenset({"api_key", "key"})  # "key": a caller key under auth.keys
DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(_Strict):
    """Seconds. `total` bounds one whole gateway call to the vendor."""

    connect: float = Field(5.0, gt=0)
    read: float = Field(30.0, gt=0)
    write: float = Field(30.0, gt=0)
    pool: float = Field(5.0, gt=0)
    total: float = Field(60.0, gt=0)


class PoolLimits(_Strict):
    max_connections: int = Field(100, ge=1)
    max_keepalive_connections: int = Field(100, ge=0)
    keepalive_expiry: float = Field(30.0, ge=0)


class BackendConfig(_Strict):
    vendor: Annotated[VendorName, AfterValidator(registered_vendor)]  # built-in or plug-in
    api_version: str | None = None
    base_url: str
    api_key: SecretStr | None = None
    auth_scheme: str | None = None
    # aiohttp (the default, several times cheaper per call) or httpx; see gateway.transport.
    http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    timeouts: Timeouts = Timeouts()
    pool: PoolLimits = PoolLimits()
    retry: RetrySettings = RetrySettings()
    breaker: BreakerSettings = BreakerSettings()
    cache: CacheSettings = CacheSettings()

    @model_validator(mode="after")
    def _check_vendor_options(self) -> BackendConfig:
        versions = api_versions(self.vendor)
        if self.api_version is not None and self.api_version not in versions:
            allowed = ", ".join(versions) if versions else "none (omit the key)"
            raise ValueError(
                f"api_version {self.api_version!r} is not one of {self.vendor}'s: {allowed}"
            )
        try:
            schemes = adapter_class(self.vendor, self.api_version).auth_schemes
        except VendorPluginError as exc:  # its adapter does not load: a config issue
            raise ValueError(exc.detail) from None
        if self.auth_scheme is not None and self.auth_scheme not in schemes:
            raise ValueError(
                f"auth_scheme {self.auth_scheme!r} is not one of {self.vendor}'s: "
                f"{', '.join(schemes)}"
            )
        if self.base_url.startswith(SIM_SCHEME):
            simulated = self.base_url[len(SIM_SCHEME) :].rstrip("/")
            if simulated != self.vendor:
                raise ValueError(
                    f"base_url {self.base_url!r} names the {simulated!r} simulator but the "
                    f"vendor is {self.vendor!r}: use sim://{self.vendor}"
                )
            if vendor_spec(self.vendor).simulator is None:  # a plug-in may ship none
                raise ValueError(f"vendor {self.vendor!r} has no simulator: use http(s)://")
        elif not re.match(r"^https?://[^/\s]+", self.base_url):
            raise ValueError("base_url must be http(s)://host[/path] or sim://<vendor>")
        elif re.match(r"^https?://[^/@]+@", self.base_url):
            raise ValueError("base_url must not carry credentials; use api_key: ${VAR}")
        return self

    @property
    def simulated(self) -> bool:
        return self.base_url.startswith(SIM_SCHEME)

    @property
    def effective_auth_scheme(self) -> str:
        return self.auth_scheme or adapter_class(self.vendor, self.api_version).auth_schemes[0]


class ProblemsConfig(_Strict):
    base_uri: str = Field(
        DEFAULT_PROBLEM_BASE,
        description="Prefix of problem type URIs; absolute, or relative to the gateway's URL",
    )


class ReloadConfig(_Strict):
    """Live config reload: SIGHUP always; `watch` also polls the file for changes."""

    watch: bool = True
    poll_seconds: float = Field(2.0, gt=0)
    # How long a replaced config may keep serving the requests that started on it.
    drain_seconds: float = Field(60.0, gt=0)


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    workers: int = Field(1, ge=1)
    max_body_bytes: int = Field(65536, ge=0)
    # Graceful shutdown: in-flight requests get this long to finish.
    shutdown_seconds: int = Field(30, ge=1)
    access_log: bool = True
    reload: ReloadConfig = ReloadConfig()


MIN_CALLER_KEY_LENGTH = 16


class CallerKey(_Strict):
    """One caller credential: its sha256 hex digest, or the key itself as ${ENV_VAR}."""

    name: str = Field(pattern=NAME_PATTERN, description="Shown in logs as the caller")
    key_sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")
    key: SecretStr | None = None
    backends: list[str] | None = Field(
        None, description="Backend or alias names this key may use; omitted: all"
    )

    @model_validator(mode="after")
    def _one_secret(self) -> CallerKey:
        if (self.key is None) == (self.key_sha256 is None):
            raise ValueError(f"key {self.name!r} needs exactly one of key_sha256 or key")
        if self.key is not None and len(self.key.get_secret_value()) < MIN_CALLER_KEY_LENGTH:
            raise ValueError(
                f"key {self.name!r} is shorter than {MIN_CALLER_KEY_LENGTH} characters"
            )
        return self

    @property
    def digest(self) -> bytes:
        """sha256 of the key: what requests are compared against."""
        if self.key is not None:
            return hashlib.sha256(self.key.get_secret_value().encode()).digest()
        assert self.key_sha256 is not None
        return bytes.fromhex(self.key_sha256)


class AuthConfig(_Strict):
    """Caller auth. Off by default (local use); the server then logs a loud warning."""

    enabled: bool = False
    keys: list[CallerKey] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_keys(self) -> AuthConfig:
        if self.enabled and not self.keys:
            raise ValueError("auth is enabled but no keys are configured")
        names = [k.name for k in self.keys]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"key name {repeated[0]!r} is used more than once")
        if len({k.digest for k in self.keys}) != len(self.keys):
            raise ValueError("two keys have the same secret")
        return self


class LedgerRefresherConfig(_Strict):
    """Re-reads non-terminal jobs in the background (one refresher across replicas)."""

    enabled: bool = False
    interval_seconds: float = Field(30.0, gt=0)
    batch: int = Field(100, ge=1, le=10000)


class LedgerSyncConfig(_Strict):
    """Imports vendor job listings (jobs started elsewhere) into the ledger."""

    schedule_seconds: float | None = Field(None, gt=0)
    max_pages: int = Field(20, ge=1)


LEDGER_URL_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


class LedgerConfig(_Strict):
    """The job ledger (gateway.ledger): SQLite by default, PostgreSQL for several replicas."""

    enabled: bool = True
    # None: the file ledger.sqlite3 in the user's state directory. Kept out of repr(): it may
    # hold a password (expanded from ${VAR}).
    url: str | None = Field(None, repr=False)
    retention_days: int | None = Field(None, ge=1)
    queue_max: int = Field(10000, ge=1)
    require_for_submit: bool = True
    busy_timeout_seconds: float = Field(5.0, gt=0)
    refresher: LedgerRefresherConfig = LedgerRefresherConfig()
    sync: LedgerSyncConfig = LedgerSyncConfig()

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(LEDGER_URL_SCHEMES):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return url


class GatewayConfig(_Strict):
    backends: dict[str, BackendConfig] = Field(min_length=1)
    aliases: dict[str, str] = Field(default_factory=dict)
    problems: ProblemsConfig = ProblemsConfig()
    server: ServerConfig = ServerConfig()
    auth: AuthConfig = AuthConfig()
    redis: RedisSettings = RedisSettings()
    ledger: LedgerConfig = LedgerConfig()
    telemetry: TelemetrySettings = TelemetrySettings()  # gateway.telemetry
    export: ExportSettings = ExportSettings()  # gateway.export (MLflow)

    @model_validator(mode="after")
    def _check_names(self) -> GatewayConfig:
        # Every bad name and dangling reference at once, each at its key path.
        scopes = [key.backends for key in self.auth.keys]
        found = name_issues(NAME_PATTERN, self.backends, self.aliases, scopes)
        raise_at_locations("GatewayConfig", found)
        return self

    def resolve(self, name: str) -> str | None:
        """The backend name for a backend or alias name (None if neither)."""
        if name in self.backends:
            return name
        return self.aliases.get(name)


def load_config(path: str | Path) -> GatewayConfig:
    """Read and validate a YAML config file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
        duplicates = duplicate_keys(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(source, [("", f"not valid YAML{where}")]) from None
    except RecursionError:
        raise ConfigError(source, [("", "not a config: nested too deeply")]) from None
    if duplicates:  # PyYAML keeps the last of two entries: which one was meant is unknown
        raise ConfigError(source, duplicates)
    return config_from_dict(data, source=source)


def default_config() -> GatewayConfig:
    """The embedded defaults: every vendor on its in-process simulator, no credentials."""
    return load_config(DEFAULT_CONFIG_PATH)


def config_from_dict(
    data: Any, source: str = "<dict>", env: Mapping[str, str] | None = None
) -> GatewayConfig:
    """Validate a config given as a dict (`${VAR}` references are read from `env`)."""
    if not isinstance(data, dict):
        raise ConfigError(source, [("", "the config must be a mapping with a 'backends' key")])
    issues: list[tuple[str, str]] = []
    expanded = _expand(data, os.environ if env is None else env, (), issues)
    issues.extend(bool_number_issues(GatewayConfig, expanded))
    try:
        config = GatewayConfig.model_validate(expanded)
    except ValidationError as exc:
        found = [_describe(err) for err in exc.errors()]
        if not any(err["type"] == "config_reference" for err in exc.errors()):
            # Field errors stopped the model before its name checks: run them here too.
            found += raw_name_issues(NAME_PATTERN, expanded)
        found = [i for i in found if i not in issues]  # a bool error comes once
        # One error per key: an unknown key needs no second error about its ${VAR}, and a
        # missing ${VAR} no second error about the unexpanded text.
        unknown = {path for path, msg in found if msg.startswith("unknown key")}
        env_paths = {path for path, _ in issues}
        found = [i for i in found if i[0] not in env_paths or i[0] in unknown]
        raise ConfigError(source, found + [i for i in issues if i[0] not in unknown]) from None
    if issues:
        raise ConfigError(source, issues)
    return config


def _expand(
    value: Any, env: Mapping[str, str], path: tuple[str, ...], issues: list[tuple[str, str]]
) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, env, (*path, str(k)), issues) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, (*path, str(i)), issues) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    key = ".".join(path)
    if path and path[-1] in _SECRET_KEYS and not _ENV_REF.fullmatch(value.strip()):
        issues.append((key, "secrets must be a ${ENV_VAR} reference, not a literal value"))
        return None
    if path == ("ledger", "url") and _literal_url_password(value):
        issues.append((key, "a password in the url must be a ${ENV_VAR} reference"))
        return None
    missing = [name for name in _ENV_REF.findall(value) if name not in env]
    for name in missing:
        issues.append((key, f"environment variable {name} is not set"))
    if missing:
        return value  # left as written, so validation still reports the file's other mistakes
    return _ENV_REF.sub(lambda m: env[m.group(1)], value)


_URL_PASSWORD = re.compile(r"^[^:/]+://[^/@:]*:([^/@]*)@")


def _literal_url_password(url: str) -> bool:
    found = _URL_PASSWORD.match(url.strip())
    return found is not None and not _ENV_REF.fullmatch(found.group(1))


def _describe(error: Any) -> tuple[str, str]:
    loc = tuple(str(part) for part in error.get("loc", ()))
    path = ".".join(loc)
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = _did_you_mean(loc[-1], allowed)
        return path, f"unknown key{hint}; allowed: {', '.join(sorted(allowed))}"
    if kind == "missing":
        return path, "required key is missing"
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    return path, message  # pydantic's msg never holds the input value, so no secret leaks


def _allowed_keys(loc: tuple[str, ...]) -> list[str]:
    """The keys allowed at a location, walking models and name -> entry mappings."""
    current: Any = GatewayConfig
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
        elif getattr(current, "__origin__", None) is dict:
            current = current.__args__[1]
        elif getattr(current, "__origin__", None) is list:
            current = current.__args__[0]
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
