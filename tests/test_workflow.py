"""The CI workflow for a monorepo's owner: it cannot run here, so check what it must contain."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import REPO


def load_workflow() -> dict[Any, Any]:
    text = (REPO / ".github" / "workflows" / "notebooks.yml").read_text(encoding="utf-8")
    data: dict[Any, Any] = yaml.safe_load(text)
    return data


def steps_running(job: dict[str, Any], needle: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if needle in str(step.get("run", ""))]


def test_triggers_push_pull_request_and_a_weekly_schedule() -> None:
    triggers = load_workflow()[True]  # YAML 1.1 reads the key `on` as true
    assert {"push", "pull_request", "schedule"} <= set(triggers)
    [cron] = [entry["cron"] for entry in triggers["schedule"]]
    _minute, _hour, day, month, weekday = cron.split()
    assert (day, month) == ("*", "*") and weekday != "*"  # once a week


def test_smoke_runs_as_a_matrix_of_shards_with_junit() -> None:
    workflow = load_workflow()
    smoke = workflow["jobs"]["smoke"]
    shards = smoke["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and len(shards) >= 2
    assert str(len(shards)) == workflow["env"]["SHARDS"]
    [run] = steps_running(smoke, "hundred run")
    command = " ".join(run["run"].split())
    assert "--shard ${{ matrix.shard }}/${{ env.SHARDS }}" in command
    assert "--profile smoke" in command
    assert "--junit-xml report-${{ matrix.shard }}.xml" in command
    assert "'--force'" in command and "schedule" in command  # the weekly run ignores the cache
    assert steps_running(smoke, 'pip install -e ".[ml]"')


def test_pip_and_data_folders_are_cached_and_results_uploaded() -> None:
    smoke = load_workflow()["jobs"]["smoke"]
    uses = {step.get("uses", "").split("@")[0]: step for step in smoke["steps"]}
    assert uses["actions/setup-python"]["with"]["cache"] == "pip"
    cache = uses["actions/cache"]
    assert "projects/*/data" in cache["with"]["path"]
    assert "schedule" in cache["if"]  # the weekly run fetches data from the real links
    upload = uses["actions/upload-artifact"]
    assert upload["if"] == "always()"
    assert ".hundred/runs" in upload["with"]["path"]
    assert "report-${{ matrix.shard }}.xml" in upload["with"]["path"]


def test_a_collect_job_merges_the_shards() -> None:
    jobs = load_workflow()["jobs"]
    collect = jobs["collect"]
    assert collect["needs"] == "smoke" and collect["if"] == "always()"
    assert steps_running(collect, "hundred collect")
    names = [str(step.get("run", "")) for step in collect["steps"]]
    merged = next(i for i, run in enumerate(names) if "hundred collect" in run)
    check = next(i for i, run in enumerate(names) if "hundred readme --check" in run)
    assert merged < check  # README's progress is checked against the merged results
    # Staleness compares package versions: the collect job needs the same ML stack.
    assert steps_running(collect, 'pip install -e ".[ml]"')
    downloads = [s for s in collect["steps"] if "download-artifact" in s.get("uses", "")]
    assert downloads and downloads[0]["with"]["pattern"] == "results-*"


def test_uv_cache_is_kept_between_runs_for_the_project_environments() -> None:
    """Projects with a requirements.lock get environments built by uv: its cache is kept,
    keyed by the locks, on every run (the weekly one too: it re-runs, it need not re-download)."""
    smoke = load_workflow()["jobs"]["smoke"]
    [uv] = [step for step in smoke["steps"] if "actions/cache" in step.get("uses", "")
            and "~/.cache/uv" in step["with"]["path"]]
    assert "projects/*/requirements.lock" in uv["with"]["key"]
    assert "if" not in uv
    names = [step.get("name", "") for step in smoke["steps"]]
    assert names.index(uv["name"]) < next(i for i, s in enumerate(smoke["steps"])
                                          if "hundred run" in str(s.get("run", "")))


def test_the_weekly_run_checks_the_data_links() -> None:
    jobs = load_workflow()["jobs"]
    links = jobs["data-links"]
    assert "schedule" in links["if"]
    [run] = steps_running(links, "hundred check-data")
    assert "--checksums" in run["run"]
