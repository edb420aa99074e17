"""ssmdoc: long-document analysis on hybrid state-space language models.

Kept light on purpose: importing ssmdoc.models or ssmdoc.kernels goes through this module.
"""

__version__ = "0.1.0"
