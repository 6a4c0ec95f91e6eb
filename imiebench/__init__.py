__version__ = "0.0.1"
from . import _helpdoc as _helpdoc  # help() shows each parameter's meaning (nbs/00a_helpdoc.ipynb)
