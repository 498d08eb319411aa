"""Every failure explained: real notebooks that rot the way learners' notebooks rot, run on
today's stack, each diagnosed with its cause and fix (``hundred.diagnosis``)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from hundred.cli import main
from hundred.diagnosis import MIGRATIONS, diagnose
from hundred.results import CellFailure
from tests.envkit import closed_port
from tests.runkit import make_project, record

# One notebook per entry of the migration table: the old call, as old tutorials wrote it.
OLD_CALLS = {
    "DataFrame.append": "import pandas as pd\npd.DataFrame({'a': [1]}).append({'a': 2}, "
                        "ignore_index=True)",
    "Series.dt.week": "import pandas as pd\npd.Series(pd.to_datetime(['2026-01-05'])).dt.week",
    "DataFrame.ix": "import pandas as pd\npd.DataFrame({'a': [1]}).ix[0]",
    "numeric_only=None defaults of mean(), corr() and friends":
        "import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': ['x', 'y']}).mean()",
    "np.NaN": "import numpy as np\nnp.NaN",
    "np.float, np.int, np.bool, np.object": "import numpy as np\nnp.float(1)",
    "OneHotEncoder(sparse=...)": "from sklearn.preprocessing import OneHotEncoder\n"
                                 "OneHotEncoder(sparse=False)",
    "LogisticRegression(penalty='none')": "from sklearn.linear_model import LogisticRegression\n"
                                          "LogisticRegression(penalty='none').fit([[0], [1]], "
                                          "[0, 1])",
    "sklearn.cross_validation": "from sklearn.cross_validation import train_test_split",
    "sklearn.preprocessing.Imputer": "from sklearn.preprocessing import Imputer",
    "sklearn.datasets.load_boston": "from sklearn.datasets import load_boston",
    "plt.style.use('seaborn')": "import matplotlib.pyplot as plt\nplt.style.use('seaborn')",
    "pydantic.BaseSettings": "from pydantic import BaseSettings",
    "positional x and y, as in sns.barplot(x, y)":
        "import seaborn as sns\nsns.barplot(['a', 'b'], [1, 2])",
    "optimizers' lr=": "import keras\nkeras.optimizers.Adam(lr=0.01)",
    "keras.preprocessing.image.ImageDataGenerator":
        "from keras.preprocessing.image import ImageDataGenerator",
    "fit(nb_epoch=...)": "import keras, numpy as np\n"
                         "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
                         "model.compile(optimizer='adam', loss='mse')\n"
                         "model.fit(np.zeros((4, 3)), np.zeros(4), nb_epoch=1, verbose=0)",
}
# Entries for a library this stack cannot install (TensorFlow: gigabytes): the message its
# current release raises, copied from it, stands in for the notebook.
RAISED_ELSEWHERE = {
    "TensorFlow 1 graphs and sessions (tf.Session, tf.placeholder…)":
        ("AttributeError", "module 'tensorflow' has no attribute 'Session'"),
}
STALE_PICKLE = pickle.dumps(None).replace(b"N", b"csklearn.linear_model.logistic\n"
                                               b"LogisticRegression\n", 1)
PORT = closed_port()
OTHER_ROT = {
    "missing-mlxtend": ["from mlxtend.plotting import plot_decision_regions"],
    "missing-cv2": ["import cv2"],
    "network": [f"import urllib.request\nurllib.request.urlopen("
                f"'http://127.0.0.1:{PORT}/titanic.csv', timeout=5)"],
    "kaggle-path": ["import pandas as pd\npd.read_csv('/kaggle/input/titanic/train.csv')"],
    "outside-path": ["open('../../shared-data/train.csv')"],
    "out-of-order": ["print(model)", "model = 'fitted'"],
    "never-defined": ["print(undefined_thing)"],
    "stale-pickle": ["import pickle\nwith open('model.pkl', 'rb') as f:\n    pickle.load(f)"],
    "unknown": ["raise RuntimeError('something only this notebook does')"],
}


def _folder(index: int, name: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return f"{index:03d}-{slug[:30].strip('-')}"


@pytest.fixture(scope="module")
def rotten(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A monorepo of rotten notebooks, run once; the records by the rot's name."""
    root = tmp_path_factory.mktemp("rot") / "mono"
    (root / "pyproject.toml").parent.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.hundred]\n")
    folders: dict[str, str] = {}
    cases: dict[str, list[str]] = {**{old: [code] for old, code in OLD_CALLS.items()},
                                   **OTHER_ROT}
    for index, (name, cells) in enumerate(cases.items(), 1):
        folders[name] = _folder(index, name)
        path = make_project(root, folders[name], cells)
        if name == "stale-pickle":
            (path / "model.pkl").write_bytes(STALE_PICKLE)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("KERAS_BACKEND", "torch")  # Keras 3 on the stack's torch (no TensorFlow)
        assert main(["-C", str(root), "run", "--jobs", "2"]) == 1
    return {name: record(root, folder) for name, folder in folders.items()} | {"root": root}


def test_every_migration_has_a_notebook_here() -> None:
    assert {entry.old for entry in MIGRATIONS} == set(OLD_CALLS) | set(RAISED_ELSEWHERE)
    assert not set(OLD_CALLS) & set(RAISED_ELSEWHERE)


@pytest.mark.parametrize("old", RAISED_ELSEWHERE)
def test_a_migration_of_a_library_not_on_this_stack_matches_its_message(old: str) -> None:
    entry = next(entry for entry in MIGRATIONS if entry.old == old)
    ename, evalue = RAISED_ELSEWHERE[old]
    found = diagnose("cell-error", CellFailure(ename=ename, evalue=evalue))
    assert (found.cause, found.library, found.release) == ("removed-api", entry.library,
                                                           entry.release)
    assert found.fix == f"use {entry.new}"


@pytest.mark.parametrize("entry", [e for e in MIGRATIONS if e.old in OLD_CALLS],
                         ids=lambda entry: entry.old)
def test_a_removed_api_names_the_release_and_the_replacement(
    rotten: dict[str, Any], entry: Any
) -> None:
    result = rotten[entry.old]
    assert result["status"] == "failed"
    diagnosis = result["diagnosis"]
    assert diagnosis is not None, result["error"]
    assert diagnosis["cause"] == "removed-api", (result["error"], diagnosis)
    assert (diagnosis["library"], diagnosis["release"]) == (entry.library, entry.release)
    assert diagnosis["fix"] == f"use {entry.new}"


@pytest.mark.parametrize(("name", "distribution"), [("missing-mlxtend", "mlxtend"),
                                                    ("missing-cv2", "opencv-python")])
def test_a_missing_package_names_the_distribution_to_add(
    rotten: dict[str, Any], name: str, distribution: str
) -> None:
    diagnosis = rotten[name]["diagnosis"]
    assert diagnosis["cause"] == "missing-package"
    assert diagnosis["library"] == distribution
    assert f"hundred add {rotten[name]['project']} {distribution}" in diagnosis["fix"]


def test_a_network_call_names_the_host(rotten: dict[str, Any]) -> None:
    diagnosis = rotten["network"]["diagnosis"]
    assert diagnosis["cause"] == "network"
    assert "127.0.0.1" in diagnosis["explanation"]
    assert "data.py" in diagnosis["fix"] and "checksum" in diagnosis["fix"]


def test_a_missing_file_says_whether_it_is_absolute_or_outside(rotten: dict[str, Any]) -> None:
    kaggle = rotten["kaggle-path"]["diagnosis"]
    assert kaggle["cause"] == "missing-file"
    assert "/kaggle/input/titanic/train.csv is an absolute path of a hosted notebook service" in (
        kaggle["explanation"])
    outside = rotten["outside-path"]["diagnosis"]
    assert outside["cause"] == "missing-file"
    assert "is outside the project" in outside["explanation"]
    assert "data.py" in outside["fix"]


def test_hidden_state_names_the_later_cell_or_says_never_defined(
    rotten: dict[str, Any]
) -> None:
    later = rotten["out-of-order"]["diagnosis"]
    assert later["cause"] == "hidden-state"
    # cells: the markdown title, the parameters, print(model), model = ...: defined in cell 4
    assert "'model' is defined only in a later cell (4)" in later["explanation"]
    assert "out of order" in later["explanation"]
    never = rotten["never-defined"]["diagnosis"]
    assert never["cause"] == "hidden-state"
    assert "never defined" in never["explanation"]


def test_a_stale_pickle_is_recognised(rotten: dict[str, Any]) -> None:
    diagnosis = rotten["stale-pickle"]["diagnosis"]
    assert diagnosis["cause"] == "stale-pickle", rotten["stale-pickle"]["error"]
    assert "re-create" in diagnosis["fix"]


def test_an_unknown_error_says_so(rotten: dict[str, Any]) -> None:
    diagnosis = rotten["unknown"]["diagnosis"]
    assert diagnosis["cause"] == "unknown"
    assert diagnosis["explanation"].startswith("no known cause for RuntimeError")


def test_the_terminal_status_and_the_post_show_the_cause_and_fix(
    rotten: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    root: Path = rotten["root"]
    folder = rotten["np.NaN"]["project"]
    capsys.readouterr()
    assert main(["-C", str(root), "run", folder, "--force"]) == 1
    said = " ".join(capsys.readouterr().out.split())
    assert "cause: removed-api: numpy 2.0 removed or changed np.NaN" in said
    assert "fix: use np.nan" in said
    assert main(["-C", str(root), "status", "--json"]) == 0
    rows = {row["project"]: row for row in json.loads(capsys.readouterr().out)["projects"]}
    assert rows[folder]["smoke"]["cause"] == "removed-api"
    assert rows[folder]["smoke"]["fix"] == "use np.nan"
    assert "numpy 2.0 removed or changed np.NaN" in rows[folder]["reason"]  # the dashboard's
    assert main(["-C", str(root), "status"]) == 0
    assert f"{folder}: removed-api; fix: use np.nan" in capsys.readouterr().out
    from hundred import catalog
    from hundred.site import project_runs, results_box

    project = next(p for p in catalog.scan(root).projects if p.name.folder == folder)
    box = results_box(project, project_runs(root, project))
    assert "Why: numpy 2.0 removed or changed np.NaN. Fix: use np.nan." in box


@pytest.mark.parametrize(("kind", "cause"), [
    ("timeout", "timeout"), ("dead-kernel", "dead-kernel"), ("interrupted", "interrupted"),
    ("internal-error", "internal-error"),
])
def test_failures_of_the_run_itself_have_their_fix(kind: Any, cause: str) -> None:
    found = diagnose(kind, CellFailure(ename="X", evalue="y"))
    assert found.cause == cause and found.fix


def test_a_dead_kernel_out_of_memory_says_so() -> None:
    found = diagnose("dead-kernel", CellFailure(ename="DeadKernelError", evalue="died"),
                     out_of_memory=True)
    assert found.cause == "out-of-memory" and "memory" in found.explanation


def test_the_dashboard_readme_and_status_show_rot_by_cause(rotten: dict[str, Any]) -> None:
    from hundred.dashboard import build_dashboard, dashboard_html, headline_lines, readme_section

    root: Path = rotten["root"]
    board = build_dashboard(root)
    removed = len(OLD_CALLS)  # a notebook each here
    assert board.rot["removed-api"] == removed
    assert board.rot["missing-package"] == 2 and board.rot["hidden-state"] == 2
    assert sum(board.rot.values()) == board.count("failing") == len(rotten) - 1
    assert headline_lines(board)[-1].startswith(f"failing by cause: {removed} removed-api, ")
    assert f"failing ({removed} removed-api, " in readme_section(board)
    home = dashboard_html(board, lambda progress: None)
    assert f'<p class="hundred-rot">Failing by cause: {removed} removed-api, ' in home


@pytest.fixture
def memory_limited() -> Any:
    """A memory cgroup of 600 MB that a process joins, or a skip where none can be made."""
    import os
    import uuid

    name = f"hundred-test-{uuid.uuid4().hex[:8]}"
    v1 = Path("/sys/fs/cgroup/memory") / name
    try:
        v1.mkdir()
        (v1 / "memory.limit_in_bytes").write_text(str(600 * 1024 * 1024))
    except OSError as error:
        pytest.skip(f"no memory cgroup can be made here ({error})")

    def join() -> None:  # in the child, before it executes
        (v1 / "cgroup.procs").write_text(str(os.getpid()))

    yield join
    for _ in range(50):  # the cgroup empties as its last processes are reaped
        try:
            v1.rmdir()
            break
        except OSError:
            import time

            time.sleep(0.1)


def test_a_kernel_the_oom_killer_kills_is_diagnosed_out_of_memory(
        tmp_path: Path, memory_limited: Any) -> None:
    import shutil
    import subprocess
    import sys

    from tests.conftest import REPO

    root = tmp_path / "mono"
    (root / "projects").mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    make_project(root, "001-greedy", ["print('before')", "hog = b'x' * (3 * 1024 ** 3)"])
    make_project(root, "002-modest", ["print('fits')"])
    hundred = "import sys\nfrom hundred.cli import main\nsys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", hundred, "-C", str(root), "run", "--jobs", "1"],
                          preexec_fn=memory_limited, capture_output=True, text=True, timeout=300)

    assert done.returncode == 1, done.stderr
    greedy = record(root, "001-greedy")
    assert greedy["failure"] == "dead-kernel" and greedy["out_of_memory"] is True
    assert greedy["diagnosis"]["cause"] == "out-of-memory"
    assert any("out-of-memory killer" in note for note in greedy["notes"])
    modest = record(root, "002-modest")  # the run went on
    assert modest["status"] == "passed" and modest["out_of_memory"] is False
