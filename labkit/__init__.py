"""labkit: the helper package of Edge AI Lab.

``import labkit`` is fast and does not import TensorFlow; modules that need it load it on
first use through :mod:`labkit._tf`.

Example
-------
>>> import labkit, sys
>>> "tensorflow" in sys.modules
False
"""

from labkit.grading import check

__version__ = "0.1.0"
REPOSITORY = "edge-ai-lab/edge-ai-lab"  # GitHub owner/name: the Colab badges and install cells
BRANCH = "main"


def doctor() -> int:
    """Print versions, hardware and a LiteRT / TFLite Micro self-test; return an exit code."""
    from labkit.system import run

    return run()


__all__ = ["check", "doctor", "REPOSITORY", "BRANCH", "__version__"]
