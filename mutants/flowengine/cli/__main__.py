"""``python -m flowengine.cli``: the same as the ``flowengine`` console script."""

from flowengine.cli import main

raise SystemExit(main())
