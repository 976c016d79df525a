"""Graded exercises, one module per lab: ``labNN.py`` defines ``EXERCISES``.

Each exercise names the function the student writes, labkit's reference for it (marked
with :func:`labkit.grading.reference_for`) and its tests. See ``lab00.py`` for the pattern.
"""
