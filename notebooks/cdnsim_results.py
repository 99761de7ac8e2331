"""Moved: the loader is now the ``cdnsim`` package (``python/`` at the
repository root; ``pip install -e python``). This module only re-exports
it for notebooks written against the old name: write ``import cdnsim``."""

import warnings

from cdnsim.results import *  # noqa: F401,F403
from cdnsim.results import __all__  # noqa: F401

warnings.warn("cdnsim_results is now the cdnsim package: `import cdnsim`", FutureWarning, stacklevel=2)
