"""``python -m labkit.gestures [--check]``: rebuild or check the shipped gesture files."""

from labkit.gestures.rebuild import main

raise SystemExit(main())
