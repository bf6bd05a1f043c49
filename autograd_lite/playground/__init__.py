"""The Playground: train an MLP live in the browser and watch its gradients flow on the slide-style graph.

`autograd-lite playground` runs it. Where things are: the settings and their checks in
`settings.py`, the data sets in `data.py`, one page's training (a worker thread around
`nn.fit`) in `session.py`, what the page draws in `view.py`, "copy as code" in `code.py`,
the HTTP server in `server.py`, and the page itself (plain HTML, CSS and JS) in `static/`.
The engine does not import `nn`: the CLI hands it in (`serve(nn)`).
"""

from autograd_lite.playground.server import make_server, serve

__all__ = ["make_server", "serve"]
