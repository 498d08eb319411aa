"""Write README's progress section and badge, so `hundred readme --check` passes at once."""

import os
import sys
from pathlib import Path

try:
    from hundred.dashboard import rewrite_readme
except ImportError:
    print("note: hundred is not installed here; run 'hundred readme' once it is",
          file=sys.stderr)
else:
    rewrite_readme(Path.cwd())
    # hundred writes these atomically through a private temporary file: give them the
    # permissions of every other file of the new repository.
    umask = os.umask(0)
    os.umask(umask)
    for written in ("README.md", "docs/assets/progress.svg", "docs/assets/progress.json"):
        Path(written).chmod(0o666 & ~umask)
