"""Training: `fit` and what it is made of (the package imports nothing itself, so its modules load in any order).

`fit.py` is the front door; `choose.py` picks a trainer for a `TrainSetup`; `compiled_step.py`
(the model's graph replayed over arrays) and `scalar_step.py` (one graph per sample) are the
steps; `distributed.py` wraps any trainer to share batches across workers; `loop.py` runs the
epochs; `history.py`, `metrics.py` (`predict`, `accuracy`) and `progress.py` are what they say.
"""
