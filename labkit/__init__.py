"""labkit: the helper package of Edge AI Lab.

``import labkit`` is fast and does not import TensorFlow; modules that need it load it on
first use through :mod:`labkit._tf`.

Example
-------
>>> import subprocess, sys
>>> code = "import labkit, sys; print('tensorflow' in sys.modules)"
>>> subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
'False\\n'
"""

from labkit.about import BRANCH, REPOSITORY, __version__
from labkit.grading import check


def load_tensorflow():
    """``(tf, keras)``: TensorFlow with Keras 2 (``tf_keras``), imported quietly, once.

    The way every notebook gets TensorFlow: it sets ``TF_USE_LEGACY_KERAS=1`` first (the
    model-optimization toolkit needs Keras 2) and silences TensorFlow's import messages.
    """
    from labkit._tf import load

    return load()


def doctor() -> int:
    """Print versions, hardware and a LiteRT / TFLite Micro self-test; return an exit code."""
    from labkit.system import run

    return run()


__all__ = ["check", "doctor", "load_tensorflow", "REPOSITORY", "BRANCH", "__version__"]
