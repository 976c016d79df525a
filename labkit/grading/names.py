"""Patterns shared by the release, the grader and the judge (a module without imports, so
the judge's process starts fast).

>>> CHECK_CALL.findall('check("02.quantize", quantize)')
['02.quantize']
>>> NOTEBOOK_NAME.match("02_quantization.ipynb").group(1)
'02'
"""

import re

CHECK_CALL = re.compile(r"""check\(\s*["'](\d\d\.[A-Za-z_]\w*)["']""")
NOTEBOOK_NAME = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
