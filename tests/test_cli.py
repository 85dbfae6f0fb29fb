"""The `facelib` command's plumbing: fetch and doctor (lesson commands have their own tests)."""

from facelib import cli, registry


def test_doctor_lists_versions_devices_and_every_asset(capsys, tmp_home):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow" in out and "Keras" in out and "mixed-precision policy: float32" in out
    assert f"cache (FACELIB_HOME): {tmp_home}" in out
    for asset in registry.list_assets():
        assert f"  {asset.name} " in out
    assert "facenet-keras-128" in out and "missing" in out


def test_fetch_named_asset_from_mirror_then_doctor_says_verified(capsys, tmp_home):
    assert cli.main(["fetch", "style-great-wave", "mitbih-100"]) == 0
    assert (tmp_home / "ecg" / "mitbih_100.npz").is_file()
    cli.main(["doctor"])
    lines = {l.split()[0]: l.split()[-1] for l in capsys.readouterr().out.splitlines() if l.startswith("  ")}
    assert lines["style-great-wave"] == "verified" and lines["mitbih-100"] == "verified"
    assert lines["style-udnie"] == "missing"


def test_fetch_unknown_name_exits_2_with_message(capsys):
    assert cli.main(["fetch", "no-such-asset"]) == 2
    assert "unknown asset 'no-such-asset'" in capsys.readouterr().err


def test_fetch_without_names_is_an_error(capsys):
    assert cli.main(["fetch"]) == 2
    assert "--all" in capsys.readouterr().err
