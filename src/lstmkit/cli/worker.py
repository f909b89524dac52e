"""One process of ``--nproc N``: ``python -m lstmkit.cli.worker`` runs the command line that ``launch`` put in
``LSTMKIT_CLI_ARGV`` (JSON), so that torchrun's own option parser never sees the command's options
(``--log`` would read as an abbreviation of torchrun's ``--log-dir``)."""

import json
import os
import sys

from .main import main

ARGV_VARIABLE = "LSTMKIT_CLI_ARGV"

if __name__ == "__main__":
    sys.exit(main(json.loads(os.environ[ARGV_VARIABLE])))
