"""Regenerate the README's screenshots: `python docs/screenshots.py` from the repository root."""

from __future__ import annotations

from pathlib import Path

from autograd_lite import Value, draw_dot

DOCS = Path(__file__).resolve().parent


def slides_xyz() -> Value:
    """f = (x + y)·z at x=-2, y=5, z=-4, after backward."""
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    f = (x + y) * z
    f.backward()
    return f


def slides_sigmoid(expanded: bool) -> Value:
    """The slides' sigmoid neuron σ(w0·x0 + w1·x1 + w2), fused or as its chain of gates."""
    w0, x0, w1, x1, w2 = (Value(v, n) for v, n in [(2.0, "w0"), (-1.0, "x0"), (-3.0, "w1"), (-2.0, "x1"), (-3.0, "w2")])
    z = w0 * x0 + w1 * x1 + w2
    out = 1 / (1 + (-z).exp()) if expanded else z.sigmoid()
    out.backward()
    return out


def main() -> None:
    """Write each picture as SVG and PNG."""
    pictures = {
        "xyz_wires": draw_dot(slides_xyz()),
        "xyz_records": draw_dot(slides_xyz(), style="records"),
        "sigmoid_wires": draw_dot(slides_sigmoid(expanded=False), precision=2),
        "sigmoid_expanded_wires": draw_dot(slides_sigmoid(expanded=True), precision=2),
        "sigmoid_records": draw_dot(slides_sigmoid(expanded=False), style="records", precision=2),
    }
    for name, graph in pictures.items():
        for fmt in ("svg", "png"):
            (DOCS / f"{name}.{fmt}").write_bytes(graph.pipe(format=fmt))
        print(f"wrote docs/{name}.svg and .png")


if __name__ == "__main__":
    main()
