from __future__ import annotations

from pathlib import Path

from console.core.settings import Settings


def test_settings_survive_the_trip_through_the_environment_of_a_child_process() -> None:
    # A pool's supervisor hands its settings to each worker process as HOTLINE_* variables.
    s = Settings(
        data_dir=Path("/tmp/hl"),
        trunk_sources=("192.0.2.0/28", "127.0.0.1/32"),
        agent_disconnect_grace_s=2.5,
        run_scheduler=False,
        telephony_workers=3,
        moh_wav=None,
    )
    env = s.to_env()
    assert env["HOTLINE_TRUNK_SOURCES"] == "192.0.2.0/28,127.0.0.1/32"
    assert "HOTLINE_MOH_WAV" not in env and "HOTLINE_EXTRA" not in env
    back = Settings.from_env(env)
    assert back == s
    assert isinstance(back.agent_disconnect_grace_s, float)
