"""Checkpoints: 40 epochs, saved, then 5 resumed end where 45 epochs end, bit for bit; a bad file changes nothing."""

from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest

import nn

X, Y = nn.datasets.make_moons(40, seed=1)
TARGETS = 2.0 * Y - 1.0
MiB = 2**20

OPTIMIZERS = {
    "adam": lambda model: nn.Adam(model.parameters(), lr=0.02),
    "sgd, momentum, schedule": lambda model: nn.SGD(model.parameters(), lr=lambda k: 0.1 / (1 + k / 50), momentum=0.9),
}


def new_run(optimizer="adam"):
    model = nn.MLP(2, [6, 6, 1], seed=3)
    return model, OPTIMIZERS[optimizer](model)


def train(model, opt, epochs, compiled=None, **options):
    return nn.fit(model, X, TARGETS, nn.hinge, opt, epochs, batch_size=8, progress=False, compiled=compiled, **options)


@pytest.mark.parametrize("compiled", [None, False], ids=["compiled", "scalar"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_forty_epochs_and_five_resumed_are_forty_five_to_the_last_bit(optimizer, compiled, tmp_path):
    path = tmp_path / "run.json"
    model, opt = new_run(optimizer)
    first = train(model, opt, 40, compiled, seed=0)
    nn.save_checkpoint(path, model, opt, first)

    model, opt = new_run(optimizer)  # a fresh process would build these the same way
    seen = []
    resumed = train(model, opt, 5, compiled, resume=path, callback=lambda epoch, h: seen.append(epoch))

    straight_model, straight_opt = new_run(optimizer)
    straight = train(straight_model, straight_opt, 45, compiled, seed=0)
    assert model.state_dict() == straight_model.state_dict()  # ==: every bit of every weight
    assert resumed.loss == straight.loss[40:] and resumed.accuracy == straight.accuracy[40:]
    assert resumed.first_epoch == 41 and resumed.last_epoch == 45 and seen == [40, 41, 42, 43, 44]
    assert opt.steps == straight_opt.steps == 45 * 5
    assert resumed.compiled == (compiled is None)


def test_a_checkpoint_object_resumes_too_and_records_what_it_holds(tmp_path):
    model, opt = new_run()
    history = train(model, opt, 3, seed=0)
    nn.save_checkpoint(tmp_path / "c.json", model, opt, history)
    checkpoint = nn.load_checkpoint(tmp_path / "c.json")
    assert checkpoint.epoch == 3 and checkpoint.history.loss == history.loss
    assert checkpoint.model_state == model.state_dict() and checkpoint.optimizer_state == opt.state_dict(model)
    assert nn.load(tmp_path / "c.json").state_dict() == model.state_dict()  # a checkpoint is a model file too
    other, other_opt = new_run()
    assert train(other, other_opt, 2, resume=checkpoint).first_epoch == 4


def test_the_loss_picture_of_a_resumed_run_shows_its_true_epochs(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    model, opt = new_run()
    first = train(model, opt, 4, seed=0)
    nn.save_checkpoint(tmp_path / "c.json", model, opt, first)
    resumed = train(model, opt, 3, resume=tmp_path / "c.json")
    ax = nn.plot.loss_curves({"first": first, "resumed": resumed})
    lines = {line.get_label(): line.get_xdata().tolist() for line in ax.get_lines()}
    assert lines == {"first": [1, 2, 3, 4], "resumed": [5, 6, 7]}


# --- a bad checkpoint, or one that does not fit: a short ValueError, and neither model nor optimizer changes


def saved(tmp_path, optimizer="adam"):
    model, opt = new_run(optimizer)
    history = train(model, opt, 2, seed=0)
    path = tmp_path / "c.json"
    nn.save_checkpoint(path, model, opt, history)
    return path, json.loads(path.read_text())


def rewritten(tmp_path, edit, optimizer="adam"):
    path, record = saved(tmp_path, optimizer)
    edit(record)
    path.write_text(json.dumps(record).replace('"1e999"', "1e999"))  # a number too large for a float, as text
    return path


def set_first_v(value):
    def edit(record):
        v = record["training"]["optimizer"]["buffers"]["v"]
        v[next(iter(v))] = value

    return edit


def set_history(key, value):
    def edit(record):
        record["training"]["history"][key] = value

    return edit


FIRST = "layers.0.neurons.0.w.0"
BAD_FILES = [
    ("a negative second moment", set_first_v(-1.0), f"second moments) must be >= 0, negative for {FIRST}"),
    ("a second moment of 1e999", set_first_v("1e999"), f"buffer v for {FIRST} must be a finite number, got inf"),
    ("an SGD state for Adam", lambda r: r["training"]["optimizer"].update(kind="SGD"), "not of this Adam"),
    ("a buffer name unknown", lambda r: r["training"]["optimizer"]["buffers"]["m"].update(x=0.0), "unexpected x"),
    ("steps -1", lambda r: r["training"]["optimizer"].update(steps=-1), "step count must be an integer >= 0"),
    ("a loss that is text", set_history("loss", ["x", 1.0]), "a loss in the history must be a finite number"),
    ("an accuracy of 2", set_history("accuracy", [2.0, 1.0]), "accuracy in the history must be a finite number"),
    ("losses and accuracies differ", set_history("accuracy", [1.0]), "one number per epoch"),
    ("first epoch 0", set_history("first_epoch", 0), "first_epoch must be an integer >= 1"),
    ("a shuffling state of text", set_history("rng", "PCG64"), "shuffling state must be PCG64 with"),
    ("no training record", lambda r: r.pop("training"), "a model file without training state"),
    ("a training record of 3", lambda r: r.update(training=3), "training record must hold optimizer and history"),
]


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_bad_checkpoint_is_refused_and_changes_nothing(edit, message, tmp_path):
    path = rewritten(tmp_path, edit)
    model, opt = new_run()
    train(model, opt, 1, seed=5)  # a state of their own, which a refused load must leave as it was
    before = (model.state_dict(), opt.state_dict(model))
    with pytest.raises(ValueError) as caught:
        train(model, opt, 1, resume=path)
    assert message in str(caught.value) and len(str(caught.value)) < 300 + len(str(path))
    assert (model.state_dict(), opt.state_dict(model)) == before


def test_a_repeated_steps_key_is_refused(tmp_path):
    path, _ = saved(tmp_path)
    text = path.read_text()
    path.write_text(text.replace('"steps": 10,', '"steps": 10, "steps": 0,', 1))
    assert text != path.read_text()
    with pytest.raises(ValueError, match="a name appears twice: steps"):
        nn.load_checkpoint(path)


def test_sixty_megabytes_of_empty_lists_are_refused_before_parsing(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("[" + "[]," * (20 * MiB) + "[]]")  # 60 MiB: today's reader would parse it, 10-17 s and 1.5 GB
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"'\[' or '\{' \(at most 256"):
            nn.load_checkpoint(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * path.stat().st_size  # the bytes and the text, no parsed lists


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path):
    path = tmp_path / "c.json"
    with open(path, "wb") as f:
        f.truncate(nn.saving.MAX_FILE_BYTES + 1)
    with pytest.raises(ValueError, match="larger than the 64 MiB"):
        nn.load_checkpoint(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nn.MLP(2, [4, 1], seed=0), "nouts [6, 6, 1] (this model: [4, 1])"),
        (lambda: nn.MLP(2, [6, 6, 1], activation="relu"), "activation 'tanh' (this model: 'relu')"),
        (lambda: nn.Neuron(2), "class 'nn.layers.MLP' (this model: nn.layers.Neuron)"),
    ],
)
def test_a_checkpoint_of_another_model_is_refused(make, message, tmp_path):
    path, _ = saved(tmp_path)
    model = make()
    opt = nn.Adam(model.parameters(), lr=0.02)
    before = model.state_dict()
    with pytest.raises(ValueError) as caught:
        nn.fit(model, [[0.0, 1.0]], [1.0], nn.hinge, opt, 1, progress=False, resume=path)
    assert str(caught.value) == f"{path}: the saved model differs from this one: {message}"
    assert model.state_dict() == before and opt.steps == 0


def test_an_optimizer_of_another_kind_leaves_the_model_as_it_was(tmp_path):
    path, _ = saved(tmp_path, "adam")
    model, _ = new_run()
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = model.state_dict()
    with pytest.raises(ValueError, match="not of this SGD"):
        nn.load_checkpoint(path).restore(model, opt)  # the model was filled first, then put back
    assert model.state_dict() == before and opt.steps == 0


def test_seed_and_resume_together_are_refused(tmp_path):
    path, _ = saved(tmp_path)
    model, opt = new_run()
    with pytest.raises(ValueError, match="leave seed= out"):
        train(model, opt, 1, seed=0, resume=path)
    assert opt.steps == 0


def test_save_refuses_what_it_could_not_load_back_and_keeps_the_old_file(tmp_path):
    path, _ = saved(tmp_path)
    old = path.read_bytes()
    model, opt = new_run()
    with pytest.raises(ValueError, match="the loss of epoch 2 is inf"):
        nn.save_checkpoint(path, model, opt, nn.History(loss=[1.0, math.inf], accuracy=[None, None]))
    model.parameters()[0].data = math.nan
    with pytest.raises(ValueError, match="cannot save: parameter"):
        nn.save_checkpoint(path, model, opt)
    assert path.read_bytes() == old


def test_the_shuffling_state_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(12345)
    rng.permutation(100)
    rng.integers(0, 2**32, dtype=np.uint32)  # leaves has_uint32 and uinteger set
    model, opt = new_run()
    history = nn.History(rng_state=dict(rng.bit_generator.state))
    nn.save_checkpoint(tmp_path / "c.json", model, opt, history)
    assert nn.load_checkpoint(tmp_path / "c.json").history.rng_state == rng.bit_generator.state


# --- the CLI writes model.json as a checkpoint and --load resumes from it


def test_cli_resume_numbers_the_epochs_on_and_refuses_a_bad_state(tmp_path, capsys):
    from autograd_lite.cli.main import main

    common = ["train", "--quiet", "--hidden", "4", "--batch-size", "16"]
    assert main([*common, "--epochs", "4", "--out", str(tmp_path / "a")]) == 0
    assert main([*common, "--epochs", "2", "--load", str(tmp_path / "a/model.json"), "--out", str(tmp_path / "b")]) == 0
    assert "resumed after step" in capsys.readouterr().out
    history = nn.load_checkpoint(tmp_path / "b/model.json").history
    assert (history.first_epoch, history.epochs) == (5, 2)  # what loss.svg draws: epochs 5 and 6

    record = json.loads((tmp_path / "a/model.json").read_text())
    v = record["training"]["optimizer"]["buffers"]["v"]
    v[next(iter(v))] = -1.0
    (tmp_path / "a/model.json").write_text(json.dumps(record))
    code = main([*common, "--epochs", "2", "--load", str(tmp_path / "a/model.json"), "--out", str(tmp_path / "c")])
    assert code == 2 and "must be >= 0" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
