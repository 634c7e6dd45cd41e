"""``python -m flowengine``: the same as the ``flowengine`` console script."""

from flowengine.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
