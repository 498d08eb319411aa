"""hundred: keep a 100 ML/DL projects challenge honest and visible.

Inside a project notebook, record the headline metric with::

    import hundred
    hundred.record("accuracy", 0.93)
"""

from __future__ import annotations

from hundred.errors import HundredError
from hundred.metrics import METRIC_MIME, record

__all__ = ["METRIC_MIME", "HundredError", "record"]
__version__ = "0.1.0"
