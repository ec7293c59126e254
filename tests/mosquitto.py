"""A real Mosquitto broker (Debian's `mosquitto`) for the tests: a generated config on a free
port in a temporary directory, started, waited for until it accepts connections, stopped.

`.ci/run` installs the package when it is missing; without it these tests are skipped with
the reason.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.web.live_server import free_port

DEADLINE_S = 30.0  # only ever reached when a broker does not start
POLL_S = 0.02  # polling interval of the connect probe, not synchronisation


def mosquitto_path() -> str | None:
    """The broker's executable (in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None
    )


class Mosquitto:
    """One broker process; `restart()` brings it back on the same port."""

    def __init__(
        self, workdir: Path, *, users: dict[str, str] | None = None, tls: bool = False
    ) -> None:
        exe = mosquitto_path()
        if exe is None:
            pytest.skip("mosquitto is not installed (apt-get install -y mosquitto; .ci/run does)")
        self.exe = exe
        self.workdir = workdir
        self.port = free_port()
        self.users = users
        self.tls = tls
        self.ca_file = workdir / "ca.pem"  # with `tls`: the CA the broker's certificate is from
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "mosquitto.log"
        self.conf = workdir / "mosquitto.conf"
        self._write_conf()

    @property
    def url(self) -> str:
        """mqtt://127.0.0.1:PORT (mqtts:// with `tls`)"""
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def _write_conf(self) -> None:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence false",  # a restart loses every retained message
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            f"user {getpass.getuser()}",  # as root it would switch to `mosquitto`
        ]
        if self.tls:
            self._make_certificates()
            d = self.workdir
            lines += [f"cafile {d / 'ca.pem'}", f"certfile {d / 'server.pem'}"]
            lines += [f"keyfile {d / 'server.key'}"]
        if self.users is None:
            lines.append("allow_anonymous true")
        else:
            passwords = self.workdir / "passwords"
            passwords.write_text("")
            for name, password in self.users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwords), name, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        self.conf.write_text("\n".join(lines) + "\n")

    def _make_certificates(self) -> None:
        """A CA of the test's own and a certificate for 127.0.0.1 from it (openssl)."""
        d, ec = self.workdir, "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
        (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
        for command in (
            f"req -x509 {ec} -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca",
            f"req {ec} -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1",
            "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
            "-days 2 -extfile san.cnf",
        ):
            subprocess.run(["openssl", *command.split()], cwd=d, check=True, capture_output=True)

    def start(self) -> Mosquitto:
        """Start it and return once it accepts a TCP connection."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stderr=log)
        deadline = time.monotonic() + DEADLINE_S
        waiter = threading.Event()
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: {self.log.read_text()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mosquitto did not listen: {self.log.read_text()}"
                    ) from None
                waiter.wait(POLL_S)

    def stop(self) -> None:
        """Stop it (and wait until the process is gone)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGCONT)  # a paused broker cannot handle SIGTERM
        proc.terminate()
        try:
            proc.wait(DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self) -> None:
        """Stopped and started again on the same port (retained messages are gone)."""
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections stay open and nothing is answered, a slow broker."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused broker run again."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
