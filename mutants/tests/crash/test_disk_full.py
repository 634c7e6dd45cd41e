"""A full disk under SQLite mid-step: the result comes back in the error, and nothing repeats.

The worker is a real process whose file size limit (``RLIMIT_FSIZE``, with SIGXFSZ
ignored) is lowered just before the save, so SQLite's write fails with "database or
disk is full" exactly as on a full partition, without mounting anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from flowengine import Auth0Config, FlowClient, FlowRepository, Keyring
from flowengine.stores import SQLiteStore
from flowengine.testing import Auth0Emulator
from tests.crash.rig import TALLY

PHONE = "+15550177"
DOMAIN = "tenant.example.auth0.com"

_WORKER = textwrap.dedent(
    """
    import json, resource, signal, sys
    from flowengine import Auth0Config, FlowClient, FlowRepository, Keyring, LostUpdateError
    from flowengine.stores import SQLiteStore
    from flowengine.testing import Auth0Emulator

    db, keys, handle, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    emu = Auth0Emulator(domain="tenant.example.auth0.com", seed=seed)
    emu.add_client("app-id", client_secret="app-secret")
    store = SQLiteStore(db)
    repo = FlowRepository(store, Keyring.from_env_value(keys), lease=1.0)
    save = store.save

    def save_on_a_full_disk(*args, **kwargs):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.RLIM_INFINITY))
        return save(*args, **kwargs)

    store.save = save_on_a_full_disk
    config = Auth0Config("tenant.example.auth0.com", "app-id", client_secret="app-secret")
    with FlowClient(config, transport=emu.transport()) as client:
        try:
            with repo.step(handle) as flow:
                client.start_passwordless(flow, connection="sms", phone_number="+15550177")
        except LostUpdateError as exc:
            print(json.dumps({
                "error": "LostUpdateError",
                "cause": type(exc.__cause__).__name__,
                "result_state": exc.result.state if exc.result else None,
                "sent": len(emu.outbox),
            }))
        else:
            print(json.dumps({"error": None}))
    """
)


def test_a_full_disk_during_the_save_loses_nothing(tmp_path: Path) -> None:
    """The save fails on a full disk: the error carries the result, the next worker is warned."""
    db = tmp_path / "flows.db"
    keys = Keyring.generate()
    repo = FlowRepository(SQLiteStore(db), keys, lease=1.0)
    handle = repo.add(_client_flow())
    repo.store.close()
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(db), keys.to_env_value(), handle, "71"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "error": "LostUpdateError",
        "cause": "StoreError",
        "result_state": "code_sent",
        "sent": 1,
    }, done.stderr
    # The disk was full for the claim's cut too: the next worker (a normal disk) waits
    # out the 1 s lease, takes the claim over and sees the doubt.
    time.sleep(1.1)
    again = FlowRepository(SQLiteStore(db), keys, lease=1.0)
    with again.step(handle) as flow:
        assert flow.uncertain is not None and flow.uncertain.trigger == "start_passwordless"
        assert flow.context.send_unconfirmed
    assert again.view(flow.handle).state == "started"  # readable, and nothing repeated
    TALLY.add(scenarios=1)


def _client_flow() -> object:
    emu = Auth0Emulator(domain=DOMAIN, seed=71)
    emu.add_client("app-id", client_secret="app-secret")
    config = Auth0Config(DOMAIN, "app-id", client_secret="app-secret")
    with FlowClient(config, transport=emu.transport()) as client:
        return client.new_flow()
