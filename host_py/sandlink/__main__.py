"""`python -m sandlink`: see `sandlink._cli`."""

import sys

from ._cli import main

sys.exit(main())
