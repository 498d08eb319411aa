"""`hundred init`: a learner's own challenge monorepo from the cookiecutter template.

The answers are checked first (the template's pre-generation hook applies the same
``validate_answers``), the template is rendered into a hidden folder beside the target, a git
repository with a first commit is made there, and only then is it renamed into place: an error
or Ctrl-C at any point leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hundred.errors import HundredError, WorkFailed

ROADMAPS = ("deep-learning", "classic-ml", "empty")
LICENSES = ("MIT", "CC-BY-4.0", "Apache-2.0")
# GitHub's rules: an owner is 1-39 letters, digits or single inner hyphens; a repository name
# is letters, digits, '.', '_' and '-' (here it must also start and end with a letter or digit,
# so that it is a valid Python distribution name too).
GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")
GITHUB_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


@dataclass(frozen=True)
class Question:
    """One answer of the template: its key, how to ask for it, its default from earlier ones."""

    key: str
    prompt: str
    default: Callable[[Mapping[str, str]], str]


def _one_year_after(start: str) -> str:
    day = dt.date.fromisoformat(start)
    try:
        return day.replace(year=day.year + 1).isoformat()
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28).isoformat()


QUESTIONS = (
    Question("title", "Challenge title", lambda _: "100 ML projects"),
    Question("author", "Your name (the LICENSE and the first commit)", lambda _: "A. Learner"),
    Question("github_owner", "GitHub owner (user or organisation) that will host it",
             lambda _: "your-github-name"),
    Question("github_repo", "GitHub repository name", lambda _: "my-100-projects"),
    Question("email", "Your e-mail (for the first commit)",
             lambda a: f"{a['github_owner']}@users.noreply.github.com"),
    Question("target", "Target number of projects (1-999)", lambda _: "100"),
    Question("start", "Start date (YYYY-MM-DD)", lambda _: dt.date.today().isoformat()),
    Question("end", "Target end date (YYYY-MM-DD)", lambda a: _one_year_after(a["start"])),
    Question("roadmap", f"Roadmap ({', '.join(ROADMAPS)})", lambda _: ROADMAPS[0]),
    Question("license", f"Licence ({', '.join(LICENSES)})", lambda _: LICENSES[0]),
)
KEYS = tuple(question.key for question in QUESTIONS)


def template_path() -> Path:
    """templates/monorepo/, shipped in the package: ``hundred/templates`` is a link to the
    repository's ``templates/`` in a checkout, and a copy of it in a wheel."""
    import hundred

    template = Path(hundred.__file__).parent / "templates" / "monorepo"
    if not (template / "cookiecutter.json").is_file():
        raise WorkFailed(f"the monorepo template is missing from {template}; reinstall hundred")
    return template


def complete_answers(
    answers: Mapping[str, str], ask: Callable[[Question, str], str] | None = None
) -> dict[str, str]:
    """Every answer: given ones, else ``ask(question, default)``'s, else the default; checked."""
    unknown = sorted(set(answers) - set(KEYS))
    if unknown:
        raise HundredError(f"unknown answer {unknown[0]!r}; the answers are {', '.join(KEYS)}")
    complete: dict[str, str] = {}
    for question in QUESTIONS:
        if question.key in answers:
            complete[question.key] = str(answers[question.key]).strip()
            continue
        default = question.default(complete)
        complete[question.key] = ask(question, default).strip() if ask else default
        if not complete[question.key]:
            complete[question.key] = default
        if question.key == "start":  # a bad start date must not break the end's default
            _date(complete, "start")
    return validate_answers(complete)


def validate_answers(answers: Mapping[str, str]) -> dict[str, str]:
    """Check a full set of answers; raise a one-line HundredError naming the first bad one."""
    missing = [key for key in KEYS if key not in answers]
    if missing:
        raise HundredError(f"answer {missing[0]!r} is missing; give it with --set "
                           f"{missing[0]}=...")
    checked = {key: str(answers[key]).strip() for key in KEYS}
    for key in ("title", "author", "email"):
        if not checked[key] or not checked[key].isprintable():
            raise HundredError(f"{key} {checked[key]!r} must be one line of printable text")
    if not EMAIL.fullmatch(checked["email"]):
        raise HundredError(f"email {checked['email']!r} is not an e-mail address")
    if not GITHUB_OWNER.fullmatch(checked["github_owner"]):
        raise HundredError(f"github_owner {checked['github_owner']!r} is not a GitHub user or "
                           "organisation name: 1-39 letters, digits or single inner hyphens")
    repo = checked["github_repo"]
    if not GITHUB_REPO.fullmatch(repo) or repo.lower().endswith(".git"):
        raise HundredError(f"github_repo {repo!r} is not a valid repository name here: letters, "
                           "digits, '.', '_' and '-', starting and ending with a letter or digit")
    target = checked["target"]
    if not target.isdigit() or not 1 <= int(target) <= 999:
        raise HundredError(f"target {target!r} must be a whole number of projects from 1 to 999")
    checked["target"] = str(int(target))
    if _date(checked, "end") <= _date(checked, "start"):
        raise HundredError(f"end {checked['end']} must come after start {checked['start']}")
    for key, choices in (("roadmap", ROADMAPS), ("license", LICENSES)):
        if checked[key] not in choices:
            raise HundredError(f"{key} {checked[key]!r} is not one of {', '.join(choices)}")
    return checked


def _date(answers: Mapping[str, str], key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(answers[key])
    except ValueError:
        raise HundredError(f"{key} {answers[key]!r} is not a date; write it as YYYY-MM-DD, "
                           "e.g. 2026-09-01") from None


def installed_hundred_spec() -> str:
    """The requirement for exactly the hundred running now (PEP 610's direct_url.json).

    A git checkout → ``hundred @ git+URL@COMMIT``; a local folder or an archive → ``hundred @
    URL``; from an index → ``hundred==VERSION``.
    """
    distribution = importlib.metadata.distribution("hundred")
    text = distribution.read_text("direct_url.json")
    if not text:
        return f"hundred=={distribution.version}"
    origin = json.loads(text)
    vcs = origin.get("vcs_info")
    if vcs:
        return f"hundred @ {vcs['vcs']}+{origin['url']}@{vcs['commit_id']}"
    return f"hundred @ {origin['url']}"


def hundred_requirement(spec: str) -> str:
    """``--hundred SPEC`` as a requirement: a full one, a version, a URL or a local folder."""
    from packaging.requirements import InvalidRequirement, Requirement

    text = spec.strip()
    if re.fullmatch(r"\d+(\.\d+)*", text):
        text = f"hundred=={text}"
    elif "://" in text:
        text = f"hundred @ {text}"
    elif Path(text).expanduser().is_dir():
        text = f"hundred @ {Path(text).expanduser().resolve().as_uri()}"
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        requirement = None
    if requirement is None or requirement.name.lower() != "hundred":
        raise HundredError(f"--hundred {spec!r} is not a requirement for hundred; give e.g. "
                           "0.1.0, 'hundred>=0.1', a git+https:// URL or a local folder")
    return text


def init_monorepo(
    target: Path, answers: Mapping[str, str], *, hundred_spec: str | None = None
) -> Path:
    """Generate a challenge monorepo at ``target`` from ``answers`` and return its path.

    Missing answers take their defaults (see ``QUESTIONS``). ``hundred_spec`` is the project's
    dependency on hundred (default: exactly the installed one). ``target`` must not exist or be
    an empty folder. With git on PATH, the result is a repository with a first commit on main.
    """
    checked = complete_answers(answers)
    requirement = hundred_requirement(hundred_spec) if hundred_spec else installed_hundred_spec()
    target = target.expanduser().absolute()
    _check_target(target)
    template = template_path()
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-init-", dir=target.parent))
    except OSError as error:
        raise HundredError(f"cannot write in {target.parent} ({error.strerror}); choose "
                           "another location") from None
    try:
        made = _render(template, staging, {**checked, "hundred": requirement,
                                           "folder": target.name})
        _first_commit(made, checked)
        if target.exists() and any(target.iterdir()):
            raise HundredError(f"{target} appeared while rendering; try again")
        made.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _check_target(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise HundredError(f"{target} already exists and is not a folder; choose another name")
    if target.is_dir() and any(target.iterdir()):
        raise HundredError(f"{target} already exists and is not empty; choose another name or "
                           "remove it")
    if not target.parent.is_dir():
        raise HundredError(f"{target.parent} does not exist; create it first or choose another "
                           "location")


def _render(template: Path, staging: Path, context: dict[str, str]) -> Path:
    from cookiecutter.exceptions import FailedHookException
    from cookiecutter.main import cookiecutter

    # cookiecutter keeps a replay of every run in the user's home: keep it in the staging folder,
    # so that init writes nothing outside the new monorepo.
    config = staging / "cookiecutter-config.yaml"
    config.write_text(json.dumps({"replay_dir": str(staging / "replay"),
                                  "cookiecutters_dir": str(staging / "cookiecutters")}))
    output = staging / "output"
    try:
        made = cookiecutter(str(template), no_input=True, extra_context=context,
                            output_dir=str(output), config_file=str(config))
    except FailedHookException as error:
        raise HundredError(f"the template refused the answers ({error}); see the line "
                           "above") from None
    except (KeyboardInterrupt, HundredError):
        raise
    except Exception as error:
        raise WorkFailed(f"rendering the template {template} failed ({type(error).__name__}: "
                         f"{error}); nothing was written") from error
    return Path(made)


def _first_commit(repo: Path, answers: Mapping[str, str]) -> None:
    """``git init -b main`` and commit everything as the author, without needing git config."""
    git = shutil.which("git")
    if git is None:
        return
    identity = ["-c", f"user.name={answers['author']}", "-c", f"user.email={answers['email']}",
                "-c", "commit.gpgsign=false"]
    steps = {
        "init": ["init", "-q", "-b", "main"],
        "add": ["add", "-A"],
        "commit": [*identity, "commit", "-q", "--no-verify", "-m",
                   f"Start the challenge: {answers['title']}"],
    }
    for step, command in steps.items():
        done = subprocess.run([git, *command], cwd=repo, capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise WorkFailed(f"git {step} failed ({last}); nothing was written")

