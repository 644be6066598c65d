"""`python -m cleaner_flows` is the `cleaner` command."""

import sys

from cleaner_flows.cli import main

sys.exit(main())
