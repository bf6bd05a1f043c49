""""Copy as code": the few lines of `nn` that build and train what the playground shows."""

from __future__ import annotations

from autograd_lite.playground.settings import Settings

LOSS_NAMES = {"hinge": "nn.hinge", "bce": "nn.bce_with_logits", "mse": "nn.mse"}


def data_lines(s: Settings) -> list[str]:
    """The lines that make X and y (the same calls as data.make_data)."""
    if s.data in ("moons", "circles", "spirals"):
        extra = ", classes=2" if s.data == "spirals" else ""
        lines = [f"X, y = nn.datasets.make_{s.data}({s.samples}{extra}, noise={s.noise!r}, seed={s.dseed})"]
    elif s.data == "xor":
        lines = [
            f"rng = np.random.default_rng({s.dseed})",
            f"X = rng.uniform(-1, 1, ({s.samples}, 2))",
            "y = (X[:, 0] * X[:, 1] < 0).astype(int)  # class 1 where exactly one coordinate is positive",
            f"X = X + rng.normal(0, {s.noise!r}, X.shape)",
        ]
    else:
        lines = [
            f"rng = np.random.default_rng({s.dseed})",
            f"X = rng.uniform(-1, 1, ({s.samples}, 2))",
            f"y = np.sin(2 * X[:, 0]) * np.cos(2 * X[:, 1]) + rng.normal(0, {s.noise!r}, {s.samples})",
        ]
    if not s.regression and s.loss != "bce":
        lines.append(f"y = 2 * y - 1  # labels ±1 for the {s.loss} loss")
    return lines


def python_code(s: Settings, epochs: int) -> str:
    """A runnable script: the data, the model, the optimizer and `nn.fit` for `epochs` epochs."""
    imports = ["import numpy as np", "import nn"] if s.data in ("xor", "regression") else ["import nn"]
    sizes = ", ".join(map(str, [*s.layers, 1]))
    if s.optimizer == "sgd":
        optimizer = f"nn.SGD(model.parameters(), lr={s.lr!r}, momentum=0.9)"
    else:
        optimizer = f"nn.Adam(model.parameters(), lr={s.lr!r})"
    batch = "" if s.batch_size is None else f", batch_size={s.batch_size}"
    l2 = f", l2={s.l2!r}" if s.l2 else ""
    report = (
        'print(f"loss {history.loss[-1]:.4f}")'
        if s.regression
        else f'print(f"loss {{history.loss[-1]:.4f}}, accuracy {{nn.accuracy(model, X, y, {LOSS_NAMES[s.loss]}):.1%}}")'
    )
    lines = [
        *imports,
        "",
        *data_lines(s),
        f'model = nn.MLP(2, [{sizes}], activation="{s.activation}", seed={s.seed})',
        f"optimizer = {optimizer}",
        f"history = nn.fit(model, X, y, {LOSS_NAMES[s.loss]}, optimizer, epochs={epochs}{batch}, seed={s.seed}{l2})",
        report,
    ]
    return "\n".join(lines) + "\n"
