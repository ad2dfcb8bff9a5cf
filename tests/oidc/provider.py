"""A real OpenID Provider for the tests: panva's oidc-provider under node (provider.mjs).

``OpenIdProvider`` writes the provider's configuration (its signing key, one confidential
client of the authorization code grant whose redirect URI is the workspace's callback, and
the accounts with their groups and ``amr``), starts node on a free port of 127.0.0.1 and
reads the endpoints from its discovery document, as an administrator configuring Careflow
would. ``account_set`` rewrites an account at the provider (provider.mjs reads the file at
every sign-in): removing a group there is what an organisation does for a leaver.

``TokenInterceptor`` stands between Careflow and the provider's token endpoint, as an
attacker on that path would: it passes answers on, or swaps the ID token for one it forged
(signed with another key) or for one it captured earlier (a replay).
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.processes import free_port, stop

HERE = Path(__file__).resolve().parent
CLIENT_ID = "careflow-workspace"
CLIENT_SECRET = "a-client-secret-for-the-tests-only-0123456789"  # noqa: S105
START_SECONDS = 20


def rsa_private_jwk(kid: str) -> tuple[dict, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}, key


class OpenIdProvider:
    def __init__(self, folder: Path, *, redirect_uri: str) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.path = folder / "oidc-provider.json"
        self.key_id = "provider-key-1"
        jwk, _ = rsa_private_jwk(self.key_id)
        self.config: dict[str, Any] = {
            "issuer": self.issuer,
            "port": self.port,
            "jwks": [jwk],
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [redirect_uri],
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "client_secret_post",
                }
            ],
            "accounts": {},
        }
        self._write()
        self.log = folder / "oidc-provider.log"
        self.process = subprocess.Popen(
            ["node", str(HERE / "provider.mjs"), str(self.path)],  # noqa: S607 - node on PATH
            cwd=HERE,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                self.discovery = requests.get(
                    f"{self.issuer}/.well-known/openid-configuration", timeout=2
                ).json()
                break
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    msg = f"oidc-provider did not start: {self.log.read_text()}"
                    raise RuntimeError(msg) from None
                time.sleep(0.1)

    def _write(self) -> None:
        self.path.write_text(json.dumps(self.config))

    def account_set(
        self, username: str, *, sub: str, groups: list[str], amr: list[str], **claims: Any
    ) -> None:
        self.config["accounts"][username] = {
            "password": f"{username}-provider-password",
            "sub": sub,
            "amr": amr,
            "claims": {"groups": groups, **claims},
        }
        self._write()

    def settings(self, *, token_endpoint: str | None = None) -> dict[str, Any]:
        """Careflow's settings for this provider, from its discovery document."""
        return {
            "CAREFLOW_OIDC_PROVIDER_NAME": "Test Health Trust",
            "CAREFLOW_OIDC_ISSUER": self.discovery["issuer"],
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": self.discovery["authorization_endpoint"],
            "OIDC_OP_TOKEN_ENDPOINT": token_endpoint or self.discovery["token_endpoint"],
            "OIDC_OP_USER_ENDPOINT": self.discovery["userinfo_endpoint"],
            "OIDC_OP_JWKS_ENDPOINT": self.discovery["jwks_uri"],
            "OIDC_RP_SCOPES": "openid email profile groups",
        }

    def stop(self) -> None:
        stop(self.process)


class TokenInterceptor:
    """An HTTP server in front of the provider's token endpoint that can swap the ID token."""

    def __init__(self, token_endpoint: str, *, forging_kid: str) -> None:
        self.mode = "pass"
        self.seen: list[str] = []  # every ID token the provider issued, in order
        self.forging_kid = forging_kid
        _, self.attacker_key = rsa_private_jwk(forging_kid)
        interceptor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = requests.post(
                    token_endpoint,
                    data=body,
                    headers={"Content-Type": self.headers["Content-Type"]},
                    timeout=10,
                )
                payload = answer.json()
                if "id_token" in payload:
                    interceptor.seen.append(payload["id_token"])
                    payload["id_token"] = interceptor.swap(payload["id_token"])
                data = json.dumps(payload).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def swap(self, id_token: str) -> str:
        if self.mode == "forge":
            # The provider's claims for another subject, signed with the attacker's key under
            # the provider's key id.
            claims = _unverified(id_token)
            claims["sub"] = self.forge_sub
            return jwt.encode(
                claims, self.attacker_key, algorithm="RS256", headers={"kid": self.forging_kid}
            )
        if self.mode == "replay":
            return self.seen[0]  # a genuine ID token of an earlier sign-in
        return id_token

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _unverified(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
