"""nn.random_restarts: K seeds, K trained models; repeatable by seed, checked before training."""

from __future__ import annotations

import numpy as np
import pytest

import nn

X, Y = nn.datasets.xor()


def xor_net(seed):
    return nn.MLP(2, [2, 1], activation="tanh", seed=seed)


def adam(params):
    return nn.Adam(params, lr=0.1)


def run(k=3, epochs=30, **options):
    return nn.random_restarts(xor_net, X, Y, nn.bce_with_logits, adam, k, epochs, **options)


def test_the_same_seeds_give_the_same_runs():
    a, b = run(), run()
    assert a.seeds == b.seeds == [0, 1, 2]
    assert a.losses == b.losses and a.accuracies == b.accuracies
    assert [h.loss for h in a.histories] == [h.loss for h in b.histories]
    assert [m.state_dict() for m in a.models] == [m.state_dict() for m in b.models]
    assert len({tuple(m.state_dict().values()) for m in a.models}) == 3  # different seeds, different models


def test_a_run_depends_only_on_its_own_seed():
    from_one, alone = run(k=3, first_seed=1), run(k=1, first_seed=2)
    assert from_one.seeds == [1, 2, 3] and alone.seeds == [2]
    assert from_one.histories[1].loss == alone.histories[0].loss
    assert from_one.models[1].state_dict() == alone.models[0].state_dict()


def test_each_run_is_what_fit_gives_for_its_seed():
    runs = run(k=2, batch_size=2)
    model = xor_net(1)
    optimizer = adam(model.parameters())
    history = nn.fit(model, X, Y, nn.bce_with_logits, optimizer, 30, batch_size=2, seed=1, progress=False)
    assert runs.histories[1].loss == history.loss
    assert runs.models[1].state_dict() == model.state_dict()


def test_final_loss_and_accuracy_are_measured_after_training():
    runs = run(k=4, epochs=60)
    for model, loss, acc in zip(runs.models, runs.losses, runs.accuracies):
        assert acc == nn.accuracy(model, X, Y, nn.bce_with_logits)
        expected = nn.bce_with_logits([model(x) for x in X.tolist()], Y.tolist()).data
        assert loss == pytest.approx(expected, rel=1e-14)
    assert runs.reached(1.0) == sum(a == 1.0 for a in runs.accuracies)
    assert runs.reached(0.0) == 4
    best = runs.best()
    assert runs.accuracies[best] == max(runs.accuracies)
    assert runs.losses[best] == min(loss for loss, a in zip(runs.losses, runs.accuracies) if a == max(runs.accuracies))


def test_a_regression_loss_has_no_accuracy():
    runs = nn.random_restarts(xor_net, X, Y.astype(float), nn.mse, adam, 2, 5)
    assert runs.accuracies == [None, None]
    with pytest.raises(ValueError, match="regression"):
        runs.reached()
    assert runs.best() in (0, 1)


def test_ctrl_c_stops_after_the_current_run():
    def stop_in_run_two(epoch, history):
        if stop_in_run_two.calls == 40:
            raise KeyboardInterrupt
        stop_in_run_two.calls += 1

    stop_in_run_two.calls = 0
    runs = run(k=5, epochs=30, callback=stop_in_run_two)
    assert runs.interrupted and runs.seeds == [0]


def test_bad_input_is_refused_before_training():
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        run(k=0)
    with pytest.raises(ValueError, match="k must be an integer"):
        run(k=2.5)
    with pytest.raises(ValueError, match="epochs must be an integer >= 0"):
        run(epochs=-1)
    with pytest.raises(ValueError, match="first_seed"):
        run(first_seed=-1)
    with pytest.raises(ValueError, match="make_model must be a function"):
        nn.random_restarts(xor_net(0), X, Y, nn.bce_with_logits, adam, 2, 5)
    with pytest.raises(ValueError, match="optimizer_factory must be a function"):
        nn.random_restarts(xor_net, X, Y, nn.bce_with_logits, "adam", 2, 5)
    with pytest.raises(ValueError, match=r"make_model\(0\) must return an nn module"):
        nn.random_restarts(lambda s: "model", X, Y, nn.bce_with_logits, adam, 2, 5)
    with pytest.raises(ValueError, match="sets fit's 'seed'"):
        run(seed=3)
    with pytest.raises(ValueError, match="X has 4 rows but y"):
        nn.random_restarts(xor_net, X, Y[:3], nn.bce_with_logits, adam, 2, 5)
    with pytest.raises(TypeError, match="unexpected keyword"):
        run(epoch=3)
    with pytest.raises(ValueError, match="target"):
        run(k=1, epochs=1).reached(1.5)


def test_plot_shows_one_bar_per_seed():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = run(k=4)
    ax = runs.plot(title="XOR")
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_array_equal(heights, runs.losses)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3"]
    assert ax.get_yscale() == "log" and ax.get_title() == "XOR"
    plt.close("all")
    with pytest.raises(ValueError, match="nothing to plot"):
        nn.Restarts().plot()
