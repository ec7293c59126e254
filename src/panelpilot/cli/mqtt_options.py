"""The MQTT options of `run`, `demo` and `fleet`, and the broker's credentials.

`--mqtt URL` (or the site file's `mqtt.url`) turns publishing on. The user name comes from
`PANELPILOT_MQTT_USERNAME`, the site file or the URL; the password from
`PANELPILOT_MQTT_PASSWORD` or a file (`--mqtt-password-file`, the site file's
`mqtt.password_file`), never from the command line, where every user of the machine could
read it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from panelpilot.cli.exits import fail
from panelpilot.site import Site
from panelpilot.site.mqtt import BrokerUrl, MqttConfig, parse_broker_url, topic_id

if TYPE_CHECKING:
    from panelpilot.service.mqtt import MqttOptions
    from panelpilot.service.service import Service

USERNAME_ENV = "PANELPILOT_MQTT_USERNAME"
PASSWORD_ENV = "PANELPILOT_MQTT_PASSWORD"
PASSWORD_FILE_BYTES = 4096

MqttUrl = Annotated[
    str | None,
    typer.Option(
        "--mqtt",
        help="Publish to this MQTT broker: mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (TLS). "
        f"Credentials: {USERNAME_ENV}, {PASSWORD_ENV} or --mqtt-password-file.",
        show_default=False,
    ),
]
MqttSite = Annotated[
    str | None,
    typer.Option(
        "--mqtt-site",
        help="The site's topic level, panelpilot/<id>/... (default: the site file's "
        "mqtt.site_id, else made from its name).",
        show_default=False,
    ),
]
MqttPasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--mqtt-password-file",
        help="File whose first line is the broker password.",
        show_default=False,
    ),
]


def broker_url(url: str, option: str = "--mqtt") -> BrokerUrl:
    """The URL of an option, or exit 2 naming the option (the URL is not repeated)."""
    try:
        return parse_broker_url(url)
    except ValueError as exc:
        raise fail(f"{option}: {exc}") from None


def read_password(path: Path, where: str) -> str:
    """The first line of a password file, or exit 2 naming where the file was given."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(PASSWORD_FILE_BYTES + 1)
    except OSError as exc:
        raise fail(f"{where} {path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > PASSWORD_FILE_BYTES:
        raise fail(f"{where} {path}: longer than {PASSWORD_FILE_BYTES} bytes")
    try:
        line = raw.decode("utf-8").splitlines()[0] if raw else ""
    except UnicodeDecodeError:
        raise fail(f"{where} {path}: not UTF-8 text") from None
    if not line:
        raise fail(f"{where} {path}: the first line (the password) is empty")
    return line


def credentials(
    broker: BrokerUrl, config: MqttConfig | None, password_file: Path | None, site_dir: Path
) -> tuple[str | None, str | None]:
    """The user name and password, from the environment first, then the files."""
    username = os.environ.get(USERNAME_ENV) or (config.username if config else None)
    username = username or broker.username
    password = os.environ.get(PASSWORD_ENV) or None
    if password is None and password_file is not None:
        password = read_password(password_file, "--mqtt-password-file")
    if password is None and config is not None and config.password_file is not None:
        password = read_password(site_dir / config.password_file, "mqtt.password_file")
    if password is not None and username is None:
        raise fail(
            f"an MQTT password needs a user name: set {USERNAME_ENV} or the site file's "
            "mqtt.username"
        )
    return username, password


def mqtt_options(
    site: Site,
    site_file: Path | None,
    url: str | None,
    site_id: str | None,
    password_file: Path | None,
) -> MqttOptions | None:
    """What to publish to, from the options and the site file's `mqtt:`; None for nothing."""
    from panelpilot.service.mqtt import MqttOptions

    config = site.mqtt
    chosen = url if url is not None else (config.url if config else None)
    if chosen is None:
        if password_file is not None or site_id is not None:
            raise fail("--mqtt-site and --mqtt-password-file need --mqtt URL (or mqtt.url)")
        return None
    broker = broker_url(chosen, "--mqtt" if url is not None else "mqtt.url")
    if site_id is not None:
        try:
            MqttConfig(site_id=site_id)
        except ValueError:
            raise fail(f"--mqtt-site {site_id!r}: 1-64 letters, digits, _ or -") from None
    site_dir = site_file.parent if site_file is not None else Path.cwd()
    username, password = credentials(broker, config, password_file, site_dir)
    ca_file = None
    if config is not None and config.ca_file is not None:
        if not broker.tls:
            raise fail(f"mqtt.ca_file is for mqtts:// (TLS) only; the broker is {broker}")
        ca_path = site_dir / config.ca_file
        if not ca_path.is_file():
            raise fail(f"mqtt.ca_file {ca_path}: no such file")
        ca_file = str(ca_path)
    given = config or MqttConfig()
    return MqttOptions(
        broker,
        site_id or given.site_id or topic_id(site.name),
        username,
        password,
        ca_file,
        topic_prefix=given.topic_prefix,
        discovery=given.discovery,
        discovery_prefix=given.discovery_prefix,
        keepalive_s=given.keepalive_s,
    )


def publish_to(service: Service, options: MqttOptions) -> None:
    """Follow the service's control loop with an MQTT publisher."""
    from panelpilot.service.mqtt import MqttPublisher

    publisher = MqttPublisher(service.reads, options).attach(service.runtime)
    service.followers.append(publisher)
    discovery = f", Home Assistant discovery under {options.discovery_prefix}/" * options.discovery
    print(
        f"panelpilot: publishing to {options.broker} under "
        f"{options.topic_prefix}/{options.site_id}/{discovery}",
        flush=True,
    )
