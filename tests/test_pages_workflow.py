"""The pages workflow: it cannot run here, so check what it must contain."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import REPO


def load_pages() -> dict[Any, Any]:
    text = (REPO / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    data: dict[Any, Any] = yaml.safe_load(text)
    return data


def runs(job: dict[str, Any]) -> list[str]:
    return [" ".join(str(step.get("run", "")).split()) for step in job["steps"]]


def uses(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["uses"].split("@")[0]: step for step in job["steps"] if "uses" in step}


def test_publishes_on_every_push_to_main_and_by_hand() -> None:
    triggers = load_pages()[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"push", "workflow_dispatch"}
    assert triggers["push"]["branches"] == ["main"]


def test_pages_permissions_and_one_deployment_at_a_time() -> None:
    workflow = load_pages()
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["group"] == "pages"


def test_runs_checks_the_readme_builds_then_uploads_in_that_order() -> None:
    build = load_pages()["jobs"]["build"]
    commands = runs(build)

    def index(needle: str) -> int:
        return next(i for i, command in enumerate(commands) if needle in command)

    install = index('pip install -e ".[ml]"')
    run = index("hundred run --profile smoke --jobs 2")
    readme = index("hundred readme")
    site = index("mkdocs build --strict")
    assert install < run < readme < site
    check = commands[readme]
    assert "hundred readme --check" not in check  # rewritten, then compared with the commit
    assert ("git diff --exit-code README.md docs/assets/progress.json "
            "docs/assets/progress.svg") in check
    assert "run 'hundred readme' and commit" in check and "exit 1" in check
    steps = [step.get("uses", "").split("@")[0] for step in build["steps"]]
    configure = steps.index("actions/configure-pages")
    upload = steps.index("actions/upload-pages-artifact")
    assert site < configure < upload
    assert uses(build)["actions/upload-pages-artifact"]["with"]["path"] == "site"


def test_deploys_the_uploaded_site() -> None:
    deploy = load_pages()["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    step = uses(deploy)["actions/deploy-pages"]
    assert deploy["environment"]["url"] == f"${{{{ steps.{step['id']}.outputs.page_url }}}}"
