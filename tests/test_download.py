"""Downloads of project data scripts, end to end, against a real HTTP server on 127.0.0.1.

Projects are rendered from the real template with ``new_project``; their ``data.py`` runs as a
subprocess (``python data.py``) with the dataset URLs pointed at a server this module starts.
The archives it serves are small but in the real formats (CIFAR-10 python pickles in a tar.gz,
MNIST gzipped IDX files), so the data scripts' readers are exercised for real.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import shutil
import socket
import struct
import subprocess
import sys
import tarfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import numpy as np
import pytest

from hundred.download import Remote, fetch
from hundred.errors import WorkFailed
from hundred.scaffold import new_project

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
CIFAR_PER_BATCH = 4
MNIST_PARTS = {
    "TRAIN_IMAGES": "train-images-idx3-ubyte.gz",
    "TRAIN_LABELS": "train-labels-idx1-ubyte.gz",
    "TEST_IMAGES": "t10k-images-idx3-ubyte.gz",
    "TEST_LABELS": "t10k-labels-idx1-ubyte.gz",
}
TRUNCATED = "/truncated/"
# Keep requests (in the tests and in the data scripts) off any proxy the environment names.
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


# --- the stand-in for the internet -------------------------------------------------------------


class RecordingServer(ThreadingHTTPServer):
    """Serves ``root`` and records the path of every request it answers."""

    daemon_threads = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self.served: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def url(self, name: str) -> str:
        return self.base + name

    def requests_for(self, name: str) -> list[str]:
        with self.lock:
            return [path for path in self.served if path.rsplit("/", 1)[-1] == name]


class Handler(SimpleHTTPRequestHandler):
    """Files from the server's root; under /truncated/ a transfer cut off halfway."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        server = cast(RecordingServer, args[2])
        super().__init__(*args, directory=str(server.root), **kwargs)

    def do_GET(self) -> None:
        server = cast(RecordingServer, self.server)
        with server.lock:
            server.served.append(self.path)
        if self.path.startswith(TRUNCATED):
            self._send_truncated(self.path.removeprefix(TRUNCATED))
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        server = cast(RecordingServer, self.server)
        with server.lock:
            server.served.append(self.path)
        super().do_HEAD()

    def _send_truncated(self, name: str) -> None:
        payload = (Path(self.directory) / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep pytest's output clean."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RecordingServer]:
    root = tmp_path / "www"
    root.mkdir()
    httpd = RecordingServer(root)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in NO_PROXY.items():
        monkeypatch.setenv(key, value)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- small archives in the real formats --------------------------------------------------------


@dataclass
class Packed:
    """What an archive holds, to compare with what ``load()`` returns."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    names: list[str]
    files: dict[str, Path] = field(default_factory=dict)


def _pickle_member(tar: tarfile.TarFile, name: str, content: dict[bytes, Any]) -> None:
    data = pickle.dumps(content, protocol=2)
    info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_cifar(folder: Path, name: str = CIFAR_ARCHIVE) -> Packed:
    """A CIFAR-10 python-version tar.gz with ``CIFAR_PER_BATCH`` images in each batch."""
    rng = np.random.default_rng(10)
    batches = [
        (
            rng.integers(0, 256, size=(CIFAR_PER_BATCH, 3072), dtype=np.uint8),
            [int(v) for v in rng.integers(0, 10, size=CIFAR_PER_BATCH)],
        )
        for _ in range(6)
    ]
    archive = folder / name
    with tarfile.open(archive, "w:gz") as tar:
        for i, (data, labels) in enumerate(batches[:5], start=1):
            _pickle_member(tar, f"data_batch_{i}", {b"data": data, b"labels": labels})
        data, labels = batches[5]
        _pickle_member(tar, "test_batch", {b"data": data, b"labels": labels})
        _pickle_member(tar, "batches.meta", {b"label_names": [n.encode() for n in CIFAR_NAMES]})
    return Packed(
        x_train=np.concatenate([d for d, _ in batches[:5]]),
        y_train=np.array([label for _, ls in batches[:5] for label in ls]),
        x_test=batches[5][0],
        y_test=np.array(batches[5][1]),
        names=list(CIFAR_NAMES),
        files={"archive": archive},
    )


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes, gzipped: magic 0 0 8 ndim, big-endian sizes, data."""
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def make_mnist(folder: Path, n_train: int = 6, n_test: int = 3) -> Packed:
    rng = np.random.default_rng(28)
    arrays = {
        "TRAIN_IMAGES": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "TRAIN_LABELS": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "TEST_IMAGES": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "TEST_LABELS": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    files = {}
    for part, filename in MNIST_PARTS.items():
        path = folder / filename
        path.write_bytes(idx_bytes(arrays[part]))
        files[part] = path
    return Packed(
        x_train=arrays["TRAIN_IMAGES"],
        y_train=arrays["TRAIN_LABELS"],
        x_test=arrays["TEST_IMAGES"],
        y_test=arrays["TEST_LABELS"],
        names=[str(d) for d in range(10)],
        files=files,
    )


def cifar_env(server: RecordingServer, packed: Packed, *, checksum: bool = True) -> dict[str, str]:
    env = {"HUNDRED_DATA_CIFAR10_URL": server.url(CIFAR_ARCHIVE)}
    if checksum:
        env["HUNDRED_DATA_CIFAR10_SHA256"] = sha256(packed.files["archive"])
    return env


def mnist_env(server: RecordingServer, packed: Packed) -> dict[str, str]:
    env = {}
    for part, filename in MNIST_PARTS.items():
        env[f"HUNDRED_DATA_MNIST_{part}_URL"] = server.url(filename)
        env[f"HUNDRED_DATA_MNIST_{part}_SHA256"] = sha256(packed.files[part])
    return env


# --- projects rendered from the real template --------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Projects rendered once by ``new_project`` in a throwaway monorepo, by dataset."""
    root = tmp_path_factory.mktemp("mono")
    (root / "projects").mkdir()
    shutil.copytree(TEMPLATES, root / "templates")
    projects = {
        "cifar10": new_project("001-cnn-cifar", root),
        "mnist": new_project("002-cnn-mnist", root),
        "iris": new_project("003-iris-study", root),
    }
    return {dataset: project.path for dataset, project in projects.items()}


@pytest.fixture
def cifar_project(rendered: dict[str, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(rendered["cifar10"], tmp_path / "001-cnn-cifar"))


@pytest.fixture
def mnist_project(rendered: dict[str, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(rendered["mnist"], tmp_path / "002-cnn-mnist"))


@pytest.fixture
def iris_project(rendered: dict[str, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(rendered["iris"], tmp_path / "003-iris-study"))


def run_data(project: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python data.py`` in ``project``, as a learner would run it."""
    return subprocess.run(
        [sys.executable, "data.py"],
        cwd=project,
        env={**os.environ, **NO_PROXY, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def import_data(project: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> ModuleType:
    """Import ``project``'s data.py under a unique module name, with ``env`` set."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    name = f"hundred_test_data_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, project / "data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def error_line(stderr: str) -> str:
    """The one ``error: …`` line a failed data script prints; never a traceback."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, f"expected one error line on stderr, got:\n{stderr}"
    return errors[0]


def leftovers(project: Path) -> list[str]:
    data = project / "data"
    return sorted(p.name for p in data.iterdir()) if data.exists() else []


FAILURES = ["checksum-mismatch", "server-down", "http-404", "interrupted"]


def failure_env(mode: str, server: RecordingServer) -> dict[str, str]:
    """Environment that points a CIFAR-10 project's download at a failure of kind ``mode``."""
    if mode == "checksum-mismatch":
        # Only the URL is overridden: the small archive cannot match the real checksum.
        return cifar_env(server, make_cifar(server.root), checksum=False)
    if mode == "server-down":
        return {"HUNDRED_DATA_CIFAR10_URL": f"http://127.0.0.1:{closed_port()}/{CIFAR_ARCHIVE}"}
    if mode == "http-404":
        return {"HUNDRED_DATA_CIFAR10_URL": server.url(CIFAR_ARCHIVE)}  # nothing served there
    if mode == "interrupted":
        env = cifar_env(server, make_cifar(server.root))
        env["HUNDRED_DATA_CIFAR10_URL"] = server.url(TRUNCATED.lstrip("/") + CIFAR_ARCHIVE)
        return env
    raise AssertionError(f"unknown failure {mode}")


# --- data.py against the server ----------------------------------------------------------------


def test_cifar_downloads_and_loads(
    cifar_project: Path, server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = make_cifar(server.root)
    env = cifar_env(server, packed)

    result = run_data(cifar_project, env)

    assert result.returncode == 0, result.stderr
    assert "20 train and 4 test rows" in result.stdout
    assert server.requests_for(CIFAR_ARCHIVE) == ["/" + CIFAR_ARCHIVE]
    assert (cifar_project / "data" / CIFAR_ARCHIVE).read_bytes() == (
        packed.files["archive"].read_bytes()
    )
    assert (cifar_project / "data" / "cifar10.npz").is_file()

    split = import_data(cifar_project, monkeypatch, env).load()
    assert split.x_train.dtype == np.float32
    assert split.x_train.shape == (5 * CIFAR_PER_BATCH, 3, 32, 32)
    assert split.x_test.shape == (CIFAR_PER_BATCH, 3, 32, 32)
    assert split.x_train.min() >= 0.0 and split.x_train.max() <= 1.0
    np.testing.assert_array_equal(split.y_train, packed.y_train)
    np.testing.assert_array_equal(split.y_test, packed.y_test)
    expected = packed.x_train.reshape(-1, 3, 32, 32).astype(np.float32) / 255
    np.testing.assert_allclose(split.x_train, expected)
    np.testing.assert_allclose(split.x_test, packed.x_test.reshape(-1, 3, 32, 32) / 255)
    assert split.names == CIFAR_NAMES


def test_cifar_second_run_downloads_nothing(cifar_project: Path, server: RecordingServer) -> None:
    packed = make_cifar(server.root)
    env = cifar_env(server, packed)
    assert run_data(cifar_project, env).returncode == 0
    assert len(server.requests_for(CIFAR_ARCHIVE)) == 1

    # The prepared file is a cache too: drop it so the second run needs the archive again.
    (cifar_project / "data" / "cifar10.npz").unlink()
    result = run_data(cifar_project, env)

    assert result.returncode == 0, result.stderr
    assert len(server.requests_for(CIFAR_ARCHIVE)) == 1
    assert (cifar_project / "data" / "cifar10.npz").is_file()


def test_mnist_downloads_loads_and_caches(
    mnist_project: Path, server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = make_mnist(server.root)
    env = mnist_env(server, packed)

    result = run_data(mnist_project, env)

    assert result.returncode == 0, result.stderr
    assert "6 train and 3 test rows" in result.stdout
    assert sorted(server.served) == sorted("/" + name for name in MNIST_PARTS.values())

    split = import_data(mnist_project, monkeypatch, env).load()
    assert split.x_train.dtype == np.float32
    assert split.x_train.shape == (6, 1, 28, 28)
    assert split.x_test.shape == (3, 1, 28, 28)
    assert split.x_test.min() >= 0.0 and split.x_test.max() <= 1.0
    np.testing.assert_allclose(split.x_train[:, 0], packed.x_train.astype(np.float32) / 255)
    np.testing.assert_allclose(split.x_test[:, 0], packed.x_test.astype(np.float32) / 255)
    np.testing.assert_array_equal(split.y_train, packed.y_train)
    np.testing.assert_array_equal(split.y_test, packed.y_test)
    assert split.names == packed.names

    (mnist_project / "data" / "mnist.npz").unlink()
    again = run_data(mnist_project, env)
    assert again.returncode == 0, again.stderr
    assert len(server.served) == len(MNIST_PARTS)


def test_checksum_mismatch_fails_and_keeps_nothing(
    cifar_project: Path, server: RecordingServer
) -> None:
    env = failure_env("checksum-mismatch", server)

    result = run_data(cifar_project, env)

    assert result.returncode == 1
    line = error_line(result.stderr)
    assert env["HUNDRED_DATA_CIFAR10_URL"] in line
    assert "sha256" in line
    assert server.requests_for(CIFAR_ARCHIVE)  # it was downloaded, then thrown away
    assert leftovers(cifar_project) == []


def test_server_down_fails_and_keeps_nothing(cifar_project: Path, server: RecordingServer) -> None:
    env = failure_env("server-down", server)

    result = run_data(cifar_project, env)

    assert result.returncode == 1
    line = error_line(result.stderr)
    assert env["HUNDRED_DATA_CIFAR10_URL"] in line
    assert "could not download" in line
    assert leftovers(cifar_project) == []


def test_http_404_fails_naming_the_url(cifar_project: Path, server: RecordingServer) -> None:
    env = failure_env("http-404", server)

    result = run_data(cifar_project, env)

    assert result.returncode == 1
    line = error_line(result.stderr)
    assert env["HUNDRED_DATA_CIFAR10_URL"] in line
    assert "HTTP 404" in line
    assert server.requests_for(CIFAR_ARCHIVE) == ["/" + CIFAR_ARCHIVE]
    assert leftovers(cifar_project) == []


def test_interrupted_transfer_leaves_nothing_under_the_final_name(
    cifar_project: Path, server: RecordingServer
) -> None:
    env = failure_env("interrupted", server)

    result = run_data(cifar_project, env)

    assert result.returncode == 1
    assert env["HUNDRED_DATA_CIFAR10_URL"] in error_line(result.stderr)
    assert server.requests_for(CIFAR_ARCHIVE) == [TRUNCATED + CIFAR_ARCHIVE]
    assert leftovers(cifar_project) == []

    # Nothing half-written was kept, so a good mirror afterwards just works.
    good = cifar_env(server, make_cifar(server.root))
    recovered = run_data(cifar_project, good)
    assert recovered.returncode == 0, recovered.stderr
    assert leftovers(cifar_project) == [CIFAR_ARCHIVE, "cifar10.npz"]


@pytest.mark.parametrize("mode", FAILURES)
def test_failure_prints_one_line_on_stderr(
    mode: str, cifar_project: Path, server: RecordingServer
) -> None:
    env = failure_env(mode, server)

    result = run_data(cifar_project, env)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [error_line(result.stderr)]


def test_bundled_dataset_needs_no_server(
    iris_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Any download attempt would fail: no proxy or mirror leads anywhere.
    dead = f"http://127.0.0.1:{closed_port()}"
    blocked = {"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead}
    result = subprocess.run(
        [sys.executable, "data.py"],
        cwd=iris_project,
        env={**os.environ, **blocked},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert (iris_project / "data" / "iris.npz").is_file()
    split = import_data(iris_project, monkeypatch, {}).load(limit=10)
    assert split.x_train.shape == (10, 4)
    assert split.x_test.shape == (10, 4)
    assert len(split.y_train) == 10
    assert split.names == ["setosa", "versicolor", "virginica"]


# --- hundred.download.fetch directly -----------------------------------------------------------


@pytest.mark.usefixtures("no_proxy")
def test_fetch_returns_the_verified_file(server: RecordingServer, tmp_path: Path) -> None:
    served = server.root / "numbers.bin"
    served.write_bytes(bytes(range(256)) * 10)
    remote = Remote(server.url(served.name), sha256(served))
    folder = tmp_path / "cache"

    path = fetch(remote, folder)

    assert path == folder / "numbers.bin"
    assert path.read_bytes() == served.read_bytes()
    assert server.served == ["/numbers.bin"]
    assert sorted(p.name for p in folder.iterdir()) == ["numbers.bin"]


@pytest.mark.usefixtures("no_proxy")
def test_fetch_twice_downloads_once(server: RecordingServer, tmp_path: Path) -> None:
    served = server.root / "numbers.bin"
    served.write_bytes(b"0123456789" * 100)
    remote = Remote(server.url(served.name), sha256(served))
    folder = tmp_path / "cache"

    first = fetch(remote, folder)
    second = fetch(remote, folder)

    assert first == second
    assert second.read_bytes() == served.read_bytes()
    assert server.served == ["/numbers.bin"]


@pytest.mark.usefixtures("no_proxy")
def test_fetch_mismatch_raises_workfailed_naming_the_url(
    server: RecordingServer, tmp_path: Path
) -> None:
    served = server.root / "numbers.bin"
    served.write_bytes(b"what the server has")
    url = server.url(served.name)
    folder = tmp_path / "cache"

    with pytest.raises(WorkFailed) as raised:
        fetch(Remote(url, hashlib.sha256(b"what was expected").hexdigest()), folder)

    assert url in str(raised.value)
    assert raised.value.exit_code == 1
    assert server.served == ["/numbers.bin"]
    assert list(folder.iterdir()) == []
