"""The POST to an endpoint: to the address that was checked, TLS verified against the name.

A local TLS server with a certificate made here for ``ehr.test`` (cryptography), and a
resolver that says where ``ehr.test`` is: the request must reach the checked address and
verify the certificate against the host's name, never the address's.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from interop.subscriptions import endpoints


def _certificate(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path):
    """An https endpoint on 127.0.0.1 whose certificate names ``ehr.test``."""
    cert, key = _certificate(tmp_path, "ehr.test")
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert, seen
    server.shutdown()
    server.server_close()


def _resolve(monkeypatch, table: dict[str, str]):
    """``getaddrinfo`` as a DNS server would answer for these names (others: not found)."""

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            address = str(ipaddress.ip_address(host))  # an address is its own answer
        except ValueError:
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "not found") from None
            address = table[host]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(endpoints.socket, "getaddrinfo", getaddrinfo)


def test_https_goes_to_the_checked_address_and_verifies_the_name(tls_server, monkeypatch, settings):
    port, cert, seen = tls_server
    settings.CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS = ["ehr.test"]  # it is on 127.0.0.1
    _resolve(monkeypatch, {"ehr.test": "127.0.0.1", "other.test": "127.0.0.1"})
    monkeypatch.setattr(endpoints.certifi, "where", lambda: str(cert))
    answer = endpoints.post(f"https://ehr.test:{port}/hook", {}, headers=[], timeout=5)
    assert answer.ok, answer.error
    assert seen == [f"ehr.test:{port}"]
    # The same server under a name its certificate does not carry: no notification.
    settings.CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS = ["other.test"]
    refused = endpoints.post(f"https://other.test:{port}/hook", {}, headers=[], timeout=5)
    assert (refused.ok, refused.status, refused.retry) == (False, None, True)
    assert len(seen) == 1


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.0.0.7", "192.168.1.1", "169.254.169.254", "::1", "fd00::1"]
)
def test_a_public_name_now_resolving_to_a_private_address_is_not_called(
    monkeypatch, settings, address
):
    settings.CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS = []
    _resolve(monkeypatch, {"ehr.example.org": address})
    connected = []
    monkeypatch.setattr(
        endpoints.urllib3, "HTTPSConnectionPool", lambda *a, **_: connected.append(a)
    )
    answer = endpoints.post("https://ehr.example.org/hook", {}, headers=[], timeout=5)
    assert not answer.ok
    assert "private" in answer.error
    assert connected == []
    assert not ipaddress.ip_address(address).is_global
