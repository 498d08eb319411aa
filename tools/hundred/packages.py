"""Import names and the distributions behind them: the one table, for cache keys, diagnoses,
upgrade previews and adoption (``import sklearn`` is the distribution scikit-learn)."""

from __future__ import annotations

# Import names whose distribution on the package index is named otherwise.
DISTRIBUTIONS = {
    "sklearn": "scikit-learn", "cv2": "opencv-python", "bs4": "beautifulsoup4",
    "PIL": "pillow", "yaml": "PyYAML", "skimage": "scikit-image", "dateutil": "python-dateutil",
    "dotenv": "python-dotenv", "Crypto": "pycryptodome", "docx": "python-docx",
    "pptx": "python-pptx", "mpl_toolkits": "matplotlib", "google.protobuf": "protobuf",
    "tensorflow_hub": "tensorflow-hub", "ydata_profiling": "ydata-profiling",
    "pandas_profiling": "ydata-profiling", "umap": "umap-learn", "gym": "gymnasium",
    "Levenshtein": "python-Levenshtein", "serial": "pyserial", "attr": "attrs",
}


def distribution_of(module: str) -> str:
    """The distribution to install for ``module`` (a dotted import name): by the table, else
    the top-level name itself (numpy is numpy)."""
    top = module.split(".")[0]
    return DISTRIBUTIONS.get(module) or DISTRIBUTIONS.get(top) or top
