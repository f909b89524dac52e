"""``python -m lstmkit ...``: the same as the ``lstmkit`` command."""

import sys

from .cli.main import main

sys.exit(main())
