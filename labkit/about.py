"""What labkit is and where it lives: version, course repository and branch.

The bottom of the import layers, so the release and the grader can read it without
importing the rest of labkit.

Example
-------
>>> REPOSITORY.count("/")
1
"""

__version__ = "0.1.0"
REPOSITORY = "edge-ai-lab/edge-ai-lab"  # GitHub owner/name: the Colab badges and install cells
BRANCH = "main"
