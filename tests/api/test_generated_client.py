"""A client generated from the live schema works.

openapi-python-client 0.29 (https://github.com/openapi-generators/openapi-python-client),
the generator a Python integrator reaches for, writes a client from ``/api/schema/``; the
test imports it and, over real HTTP, logs in, enrols a patient, opens an episode, raises a
red flag and refers to a specialist, then logs out. It fails if the schema offers
non-JSON bodies the generator cannot model, or enums whose names collide.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from episodes.models import Episode

pytestmark = pytest.mark.django_db(transaction=True)

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


def _generate(live_server, where: Path) -> None:
    schema = where / "schema.json"
    with urllib.request.urlopen(f"{live_server.url}/api/schema/?format=json") as response:  # noqa: S310
        schema.write_bytes(response.read())
    config = where / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter needed to import the code
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(schema),
            "--meta",
            "none",
            "--output-path",
            str(where / "careflow_client"),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Duplicate" not in result.stdout + result.stderr


def test_a_generated_client_drives_an_episode(live_server, tmp_path, monkeypatch, coordinator):
    _generate(live_server, tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    def load(name: str):
        return importlib.import_module(f"careflow_client.{name}")

    client_mod, models = load("client"), load("models")
    auth_create = load("api.auth.auth_token_create")
    auth_destroy = load("api.auth.auth_token_destroy")
    patients_create = load("api.patients.patients_create")
    episodes_create = load("api.episodes.episodes_create")
    red_flags_create = load("api.episodes.episodes_red_flags_create")
    transitions_create = load("api.episodes.episodes_transitions_create")

    anonymous = client_mod.Client(base_url=live_server.url)
    token = auth_create.sync(
        client=anonymous,
        body=models.TokenRequest(username="coord-a", password="pw-for-tests"),
    )
    assert isinstance(token, models.Token), token
    # API.md: "Authorization: Token <token>" (the generator defaults to "Bearer").
    api = client_mod.AuthenticatedClient(
        base_url=live_server.url, token=token.token, prefix="Token"
    )

    patient = patients_create.sync(
        client=api,
        body=models.PatientCreateInput(
            given_name="Gen",
            family_name="Erated",
            birth_date=date(1970, 5, 1),
            timezone="Europe/London",
            email="gen@example.org",
        ),
    )
    assert isinstance(patient, models.PatientOutput), patient
    assert patient.timezone == "Europe/London"

    episode = episodes_create.sync(
        client=api,
        body=models.EpisodeCreateInput(patient=patient.id, symptom_onset=date.today()),  # noqa: DTZ011
    )
    assert isinstance(episode, models.EpisodeOutput), episode

    flag = red_flags_create.sync(
        episode_id=episode.id,
        client=api,
        body=models.RedFlagInput(sign=models.SignEnum.SADDLE_ANESTHESIA),
    )
    assert isinstance(flag, models.RedFlagOutput), flag

    referred = transitions_create.sync(
        episode_id=episode.id,
        name=models.EpisodesTransitionsCreateName.REFER_TO_SPECIALIST,
        client=api,
        body=models.AnyTransitionInput(urgency=models.UrgencyEnum.IMMEDIATE, reason="RF-1"),
    )
    assert isinstance(referred, models.EpisodeOutput), referred
    assert Episode.objects.get(pk=episode.id).state == "specialist_referral"

    assert auth_destroy.sync_detailed(client=api).status_code == 204
    assert auth_destroy.sync_detailed(client=api).status_code == 401
