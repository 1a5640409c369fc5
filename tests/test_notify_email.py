"""E-mail through a real SMTP server (aiosmtpd): STARTTLS with AUTH, implicit TLS, refusals."""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wifimon.notify.channels import EmailChannel, Message, Permanent, Retryable
from wifimon.notify.settings import EmailSettings
from wifimon.secrets import Secret

PASSWORD = "sandi-smtp-rahasia"
SUBJECT = "PERINGATAN: Titik jp-glr-01 (RW 05, Kel. Galur) mati"
BODY = "Sejak 12 Nov 2026 10:00 WIB.\nYang bisa dicoba: periksa listrik & router."


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


class Mailbox:
    """Keeps what arrives; refuses addresses at `unknown.example`."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:  # fmt: skip
        if address.endswith("@unknown.example"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> AuthResult:  # fmt: skip
    ok = isinstance(data, LoginPassword) and data.login == b"wifimon" and \
        data.password == PASSWORD.encode()  # fmt: skip
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def tls(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.fixture
def starttls_server(tls: tuple[Path, ssl.SSLContext]) -> Iterator[tuple[Mailbox, int, Path]]:
    mailbox, port = Mailbox(), free_port()

    class Factory(Controller):
        def factory(self) -> SMTP:
            return SMTP(self.handler, require_starttls=True, tls_context=tls[1],
                        authenticator=authenticator, auth_required=True,
                        hostname="mail.kota.example")  # fmt: skip

    controller = Factory(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port, tls[0]
    controller.stop()


def settings(port: int, ca: Path, **extra: Any) -> EmailSettings:
    return EmailSettings.model_validate({
        "type": "email", "host": "127.0.0.1", "port": port, "security": "starttls",
        "username": "wifimon", "password": "smtp", "sender": "wifimon <noc@diskominfo.example>",
        "ca_file": str(ca), **extra})  # fmt: skip


async def test_mail_arrives_over_starttls_with_auth_subject_and_both_parts(
    starttls_server: tuple[Mailbox, int, Path],
) -> None:
    mailbox, port, ca = starttls_server
    channel = EmailChannel("email", settings(port, ca), Secret(PASSWORD))
    note = Message("k1", "pak.joko@rw05.example", SUBJECT, BODY)
    async with aiohttp.ClientSession() as session:
        await channel.send(session, note)
    ((sender, recipients, raw),) = mailbox.received
    assert sender == "noc@diskominfo.example" and recipients == ["pak.joko@rw05.example"]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["Subject"] == SUBJECT and mail["To"] == "pak.joko@rw05.example"
    assert mail["From"] == "wifimon <noc@diskominfo.example>"
    assert mail["Message-ID"].endswith("@diskominfo.example>") and mail["Date"]
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and plain.get_content().splitlines() == BODY.splitlines()
    assert html is not None and "listrik &amp; router" in html.get_content()


async def test_wrong_password_and_unknown_address_fail_for_good_without_the_password(
    starttls_server: tuple[Mailbox, int, Path],
) -> None:
    mailbox, port, ca = starttls_server
    async with aiohttp.ClientSession() as session:
        wrong = EmailChannel("email", settings(port, ca), Secret("salah"))
        with pytest.raises(Permanent) as denied:
            await wrong.send(session, Message("k", "a@rw05.example", SUBJECT, BODY))
        assert denied.value.reason == "auth" and "salah" not in str(denied.value)
        channel = EmailChannel("email", settings(port, ca), Secret(PASSWORD))
        with pytest.raises(Permanent) as unknown:
            await channel.send(session, Message("k", "x@unknown.example", SUBJECT, BODY))
        assert unknown.value.reason == "bad_address" and "User unknown" in str(unknown.value)
        assert PASSWORD not in str(unknown.value)
    assert mailbox.received == []


async def test_implicit_tls_and_an_untrusted_certificate(
    tls: tuple[Path, ssl.SSLContext], tmp_path: Path
) -> None:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=tls[1])
    controller.start()
    try:
        spec = settings(port, tls[0], security="tls", username=None, password=None)
        async with aiohttp.ClientSession() as session:
            await EmailChannel("email", spec).send(
                session, Message("k", "noc@kota.example", SUBJECT, BODY)
            )
            untrusted = settings(port, self_signed(tmp_path / "..")[0], security="tls",
                                 username=None, password=None)  # fmt: skip
            with pytest.raises(Retryable):  # certificate not trusted: not sent, tried again
                await EmailChannel("email", untrusted).send(
                    session, Message("k2", "noc@kota.example", SUBJECT, BODY)
                )
    finally:
        controller.stop()
    assert len(mailbox.received) == 1
