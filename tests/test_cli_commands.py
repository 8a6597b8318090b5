"""The command line's sub-commands, each as a user types it: weights, stylize from a web address,
train-shapes, and errors under torchrun. Stylize's checks of what was typed are in test_cli_inputs.py, weights
fetch against a local server in test_cli_download.py."""

import torch

from nstlib import cli, scenes
from nstlib import shapes_classifier as sc
from nstlib.core.errors import UsageError
from nstlib.train import distributed

# --- weights list, fetch, import -------------------------------------------------------------------------

def test_cli_list_and_fetch_without_network(tmp_home, no_network, capsys):
    assert cli.main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "imagenet-vgg16" in out and "offline-vgg16" in out and "missing" in out
    assert "fetch offline" in out
    assert cli.main(["weights", "fetch", "imagenet"]) == 2
    assert "not reachable" in capsys.readouterr().err


def test_cli_import_reports_a_clear_error(tmp_home, tmp_path, capsys):
    assert cli.main(["weights", "import", str(tmp_path / "nope.pth")]) == 2
    assert "no such file" in capsys.readouterr().err


# --- stylize, from a web address -------------------------------------------------------------------------

def test_the_command_line_takes_addresses(tmp_home, image_server, tmp_path, capsys):
    out = tmp_path / "out.png"
    code = cli.main(["stylize", "--model", "mosaic", image_server.base + "/red.png", "-o", str(out)])
    assert code == 0 and out.is_file()
    code = cli.main(["stylize", "--model", "mosaic", image_server.base + "/page.html", "-o", str(tmp_path / "b.png")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("nstlib stylize: error:") and "is not an image" in err
    assert not (tmp_path / "b.png").exists()


# --- train-shapes ----------------------------------------------------------------------------------------

def test_train_shapes_command_is_registered():
    from nstlib.cli import build_parser

    args = build_parser().parse_args(["train-shapes", "--epochs", "1", "--seed", "3"])
    assert args.epochs == 1 and args.seed == 3 and callable(args.func)
    settings = sc.settings_of()
    assert settings["seed"] == 0 and settings["categories"] == list(scenes.CLASSES)


def test_train_shapes_passes_only_the_options_typed_so_the_defaults_stay_the_classifiers(monkeypatch, tmp_path):
    from nstlib import cli

    seen = {}

    def train(out, **overrides):
        seen.update(out=out, **overrides)
        return {"val_accuracy": 0.5, "train_seconds": 1.0}

    monkeypatch.setattr(sc, "train", train)
    assert cli.main(["train-shapes", "--epochs", "1", "--out", str(tmp_path / "s.pt")]) == 0
    assert seen == {"out": tmp_path / "s.pt", "epochs": 1}


# --- errors under torchrun -------------------------------------------------------------------------------

def test_a_user_error_on_a_process_other_than_the_first_is_printed(tmp_path, monkeypatch, capsys):
    """Under torchrun, an error met inside the session by one process alone must reach the user: rank 0 may
    never meet it (torchrun stops the others when one process fails)."""
    from nstlib import fast

    def fails_on_this_process(*args, **kwargs):
        with distributed.session("cpu"):
            raise UsageError("content='photos': photo_7.jpg cannot be read")

    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)  # as if torchrun had joined the group
    monkeypatch.setattr(fast, "train", fails_on_this_process)
    monkeypatch.setenv("WORLD_SIZE", "2")
    argv = ["train-fast", "--style", "mosaic", "--weights", "random", "--device", "cpu", "--no-progress",
            "--batch-size", "2", "-o", str(tmp_path / "m.pth")]
    for rank in ("1", "0"):
        monkeypatch.setenv("RANK", rank)
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip()
        said = " (process 1)" if rank == "1" else ""
        assert err == f"nstlib train-fast: error{said}: content='photos': photo_7.jpg cannot be read"
