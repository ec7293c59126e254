"""The `mqtt:` section: the broker a site publishes its state to (docs/integrations.md).

```yaml
mqtt:
  url: mqtts://broker.example.net:8883
  site_id: garage-north
  username: panelpilot
  password_file: /etc/panelpilot/mqtt-password
```

The password is never in the site file or on the command line: it is read from
`password_file` or from the environment (`PANELPILOT_MQTT_PASSWORD`). `parse_broker_url` is
shared with `--mqtt URL`, so the option and the section refuse the same things with the same
words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from panelpilot.site.base import SiteModel

# MQTT topic levels we build from ids: no wildcard, no level separator, no spaces, and
# within Home Assistant's discovery node_id/object_id alphabet.
TopicId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
TopicPrefix = Annotated[
    str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
]
# A refused broker URL: its message never repeats the URL (it may hold a password).
BROKER_URL_ERROR = "broker_url"
SCHEMES = {"mqtt": 1883, "mqtts": 8883}  # the IANA ports of MQTT and MQTT over TLS


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    """A broker's address as a URL names it: mqtt://host[:port] or mqtts://host[:port]."""

    host: str
    port: int
    tls: bool
    username: str | None

    def __str__(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


def parse_broker_url(url: str) -> BrokerUrl:
    """A broker URL, or ValueError saying what is allowed (never echoing a password)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(
            "not a broker URL: use mqtt://HOST[:PORT] or mqtts://HOST[:PORT]"
        ) from None
    if parts.scheme not in SCHEMES:
        raise ValueError(
            f"scheme {parts.scheme or '(none)'!r} is not mqtt:// or mqtts:// "
            "(mqtts:// is MQTT over TLS)"
        )
    if parts.password is not None:
        raise ValueError(
            "the URL carries a password: put it in a file (mqtt.password_file, "
            "--mqtt-password-file) or in PANELPILOT_MQTT_PASSWORD, never in the URL"
        )
    if not parts.hostname:
        raise ValueError("no host; use mqtt://HOST[:PORT]")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("a broker URL has no path, query or fragment: mqtt://HOST[:PORT]")
    return BrokerUrl(
        host=parts.hostname,
        port=port if port is not None else SCHEMES[parts.scheme],
        tls=parts.scheme == "mqtts",
        username=parts.username or None,
    )


class MqttConfig(SiteModel):
    """Where and how the site publishes its state over MQTT (read-only: nothing it receives
    changes a setting)."""

    url: str | None = Field(
        default=None,
        description="mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (TLS); `--mqtt URL` overrides.",
    )
    site_id: TopicId | None = Field(
        default=None,
        description="The site's topic level, panelpilot/<site_id>/... (default: from `name`).",
    )
    username: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        default=None, description="Broker user name (PANELPILOT_MQTT_USERNAME overrides)."
    )
    password_file: Annotated[str, Field(min_length=1, max_length=4096)] | None = Field(
        default=None,
        description="File whose first line is the broker password (relative to the site file).",
    )
    ca_file: Annotated[str, Field(min_length=1, max_length=4096)] | None = Field(
        default=None,
        description="CA certificates (PEM) for mqtts:// (default: the system's).",
    )
    topic_prefix: TopicPrefix = Field(default="panelpilot", description="First topic levels.")
    discovery: bool = Field(default=True, description="Publish Home Assistant discovery.")
    discovery_prefix: TopicPrefix = Field(
        default="homeassistant", description="Home Assistant's discovery prefix."
    )
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = Field(
        default=30, description="MQTT keepalive: a silent broker is noticed within 1.5 x this."
    )

    @field_validator("url")
    @classmethod
    def _broker_url(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_broker_url(value)
            except ValueError as exc:  # its own type: the loader does not echo the URL
                raise PydanticCustomError(BROKER_URL_ERROR, str(exc)) from None
        return value

    @model_validator(mode="after")
    def _tls_only_options(self) -> MqttConfig:
        if self.ca_file is not None and self.url is not None and not self.url.startswith("mqtts:"):
            raise PydanticCustomError(
                "ca_file_without_tls", "ca_file is for mqtts:// (TLS) only; the url is mqtt://"
            )
        return self


def topic_id(name: str) -> str:
    """A topic level from a site's name: `Demo home` -> `demo-home` (never empty)."""
    out, dash = [], False
    for ch in name.lower():
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            out.append(ch)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")[:64] or "site"
