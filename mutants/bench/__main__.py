"""``python -m bench``: run the benchmark harness and print the table."""

from bench.run import main

raise SystemExit(main())
