"""Graded exercises, one module per lab: ``labNN.py`` defines ``EXERCISES``.

Each exercise names the function the student writes, labkit's reference for it, any other
labkit function that computes the same answer (``equivalents``: unavailable to the student
while the lab is graded, like the reference) and its tests. Topic modules never import the
grader. See ``lab00.py`` for the pattern.
"""
