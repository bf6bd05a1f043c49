"""`python -m autograd_lite` runs the `autograd-lite` command."""

import sys

from autograd_lite.cli.main import main

sys.exit(main())
