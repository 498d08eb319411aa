"""The challenge dashboard: verified progress, pace, activity, coverage and goals.

``build_dashboard`` computes plain values from the repository; ``dashboard_html`` draws them
with HTML, CSS and inline SVG only (no image service), using Material's colour variables so
the page reads in light and dark themes. ``readme_section`` and ``badge_svg`` are the same
figures for README.md: they hold nothing that changes with today's date, so
``hundred readme --check`` only fails when the repository's state changed.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hundred import catalog
from hundred.challenge import (
    ChallengeSettings,
    Goal,
    ProjectProgress,
    Stage,
    load_challenge,
    load_goals,
    load_roadmap,
    verified_status,
)
from hundred.config import Settings, load_settings
from hundred.errors import HundredError
from hundred.results import LEDGER, RunResult, atomic_write, ledger_text

STATUS_LABEL = {"done": "done", "in-progress": "in progress", "failing": "failing"}
README_START = "<!-- hundred:progress:start -->"
README_END = "<!-- hundred:progress:end -->"
BADGE = Path("docs") / "assets" / "progress.svg"
DASHBOARD_MARKER = "<!-- hundred:dashboard -->"
# Kinds with an outline colour of their own in hundred.css; tabular has none, and any other kind
# gets a dashed outline and is named in the legend and the cell's tooltip.
OUTLINED_KINDS = ("vision", "from-scratch", "nlp", "time-series", "generative")
PLAIN_KIND = "tabular"


@dataclass(frozen=True)
class Pace:
    per_week: float
    weeks: float
    projected_finish: dt.date | None
    on_track: bool | None  # None without a target end date or without pace


@dataclass
class Dashboard:
    """Every project's verdict and the challenge's figures: what `hundred status`, its JSON,
    README's progress section and the site's home page all render."""

    settings: ChallengeSettings
    projects: list[ProjectProgress]
    stages: list[Stage]
    goals: dict[str, list[Goal]]
    today: dt.date
    run_settings: Settings = field(default_factory=Settings)
    invalid: list[catalog.InvalidProject] = field(default_factory=list)  # broken writeups
    activity: Counter[dt.date] = field(default_factory=Counter)

    def count(self, status: str) -> int:
        return sum(p.status == status for p in self.projects)

    @property
    def rot(self) -> Counter[str]:
        """Failing projects by the cause of their failure (``hundred.diagnosis``)."""
        causes: Counter[str] = Counter()
        for progress in self.projects:
            failed = progress.runs.failure if progress.status == "failing" else None
            if failed is not None:
                causes[failed.diagnosis.cause if failed.diagnosis else "undiagnosed"] += 1
        return causes

    @property
    def will_break(self) -> int:
        """Projects whose latest run raised warnings of what breaks on upgrade."""
        return sum(bool(progress.runs.deprecations) for progress in self.projects)

    def will_break_text(self) -> str:
        """``2 projects will break on upgrade (deprecation warnings)``; "" when none does."""
        count = self.will_break
        return (f"{count} project{'s' if count != 1 else ''} will break on upgrade "
                "(deprecation warnings)" if count else "")

    def rot_text(self) -> str:
        """``failing by cause: 2 removed-api, 1 missing-package``; "" when nothing fails."""
        causes = self.rot
        return ("failing by cause: " + ", ".join(f"{n} {cause}" for cause, n in
                                                 sorted(causes.items(), key=lambda c: -c[1]))
                if causes else "")

    @property
    def done(self) -> int:
        return self.count("done")

    @property
    def start(self) -> dt.date:
        dates = [p.project.writeup.date for p in self.projects]
        return self.settings.start or min(dates, default=self.today)

    @property
    def pace(self) -> Pace:
        weeks = max((self.today - self.start).days / 7, 1.0)
        per_week = self.done / weeks
        if per_week <= 0:
            return Pace(0.0, weeks, None, None)
        remaining = max(self.settings.target - self.done, 0)
        finish = self.today + dt.timedelta(weeks=remaining / per_week)
        on_track = None if self.settings.end is None else finish <= self.settings.end
        return Pace(per_week, weeks, finish, on_track)

    def streaks(self) -> tuple[int, int]:
        """(current, longest) runs of consecutive weeks with any activity."""
        weeks = sorted({day - dt.timedelta(days=day.weekday()) for day in self.activity})
        longest = current = 0
        previous: dt.date | None = None
        for week in weeks:
            current = current + 1 if previous and (week - previous).days == 7 else 1
            longest = max(longest, current)
            previous = week
        this_week = self.today - dt.timedelta(days=self.today.weekday())
        alive = previous is not None and (this_week - previous).days <= 7
        return (current if alive else 0), longest


def build_dashboard(root: Path, *, today: dt.date | None = None,
                    drafts: bool = True) -> Dashboard:
    """The dashboard's figures; ``drafts=False`` leaves draft projects out (the public site)."""
    settings = load_settings(root)
    found = catalog.scan(root)
    projects = [p for p in found.projects if drafts or not p.writeup.draft]
    board = Dashboard(
        settings=load_challenge(root, settings),
        projects=[verified_status(root, p, settings) for p in projects],
        stages=load_roadmap(root),
        goals=load_goals(root),
        today=today or dt.date.today(),
        run_settings=settings,
        invalid=found.invalid,
    )
    for progress in board.projects:
        board.activity[progress.project.writeup.date] += 1
        runs = progress.runs
        for run in {id(r): r for r in (runs.verify, runs.publish, runs.frozen) if r}.values():
            board.activity[run.started_at.date()] += 1
    return board


# ---------------------------------------------------------------------------------------------
# Terminal and README


def headline_lines(board: Dashboard) -> list[str]:
    """The dashboard's headline figures, for `hundred status`."""
    target = board.settings.target
    lines = [f"{board.done}/{target} done (verified), {board.count('in-progress')} in progress, "
             f"{board.count('failing')} failing"]
    pace = board.pace
    if pace.projected_finish is None:
        lines.append("pace: no project done yet")
    else:
        verdict = ""
        if board.settings.end is not None:
            verdict = (f" (target {board.settings.end}: "
                       f"{'on track' if pace.on_track else 'behind'})")
        lines.append(f"pace: {pace.per_week:.2f} projects/week since {board.start}; projected "
                     f"finish {pace.projected_finish}{verdict}")
    current, longest = board.streaks()
    lines.append(f"streak: {current} week(s) running, longest {longest}")
    if board.rot_text():
        lines.append(board.rot_text())
    if board.will_break:
        lines.append(board.will_break_text())
    return lines


def _metric(run: RunResult | None) -> str:
    return run.headline_text() if run is not None else ""


def readme_section(board: Dashboard) -> str:
    target = board.settings.target
    rows = [
        f"![progress: {board.done} of {target} projects done]({BADGE.as_posix()})", "",
        f"**{board.done} of {target}** projects done: each one's frozen "
        f"{board.run_settings.publish} run is current with its code and its latest "
        f"{board.run_settings.verify} run passed. "
        f"{board.count('in-progress')} in progress, {board.count('failing')} failing"
        + (f" ({board.rot_text().removeprefix('failing by cause: ')})." if board.rot
           else ".")
        + (f" {board.will_break_text().capitalize()}." if board.will_break else ""), "",
        "| # | Project | Stage | Status | Headline metric |",
        "| --- | --- | --- | --- | --- |",
    ]
    for progress in board.projects:
        project, writeup = progress.project, progress.project.writeup
        link = f"[{writeup.title}](projects/{project.name.folder}/)"
        rows.append(f"| {project.number:03d} | {link} | {writeup.stage or ''} | "
                    f"{STATUS_LABEL[progress.status]} | {_metric(progress.runs.frozen)} |")
    return "\n".join([README_START, *rows, README_END])


def badge_svg(board: Dashboard) -> str:
    """A progress badge drawn locally: no outside service sees or renders it."""
    target = board.settings.target
    share = min(board.done / target, 1.0)
    value = f"{board.done}/{target}"
    bar = round(96 * share)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="190" height="20" role="img" '
        f'aria-label="projects: {value}"><title>projects: {value}</title>'
        '<rect width="190" height="20" rx="3" fill="#555"/>'
        '<rect x="62" width="128" height="20" rx="3" fill="#2b2b2b"/>'
        f'<rect x="66" y="5" width="96" height="10" rx="2" fill="#444"/>'
        f'<rect x="66" y="5" width="{bar}" height="10" rx="2" fill="#4c1"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="6" y="14">projects</text><text x="166" y="14">{value}</text></g></svg>\n'
    )


def rewrite_readme(root: Path, *, check: bool = False) -> bool:
    """Rewrite README.md's progress section and the badge; return whether anything changed.

    With ``check``, write nothing. Text outside the markers is never touched. The badge and the
    ledger of verifying runs (``results.LEDGER``) are written with it.
    """
    readme = root / "README.md"
    if not readme.is_file():
        raise HundredError(f"no README.md in {root}; create one with the markers "
                           f"{README_START} and {README_END}")
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise HundredError(f"{readme} has no progress section: add a line {README_START} and a "
                           f"line {README_END} where it should go")
    board = build_dashboard(root)
    new_text = text[:start] + readme_section(board) + text[end + len(README_END):]
    files = {root / BADGE: badge_svg(board), root / LEDGER: ledger_text(verified_ledger(board))}
    changed = new_text != text or any(_text_of(path) != content for path, content in files.items())
    if changed and not check:
        atomic_write(readme, new_text.encode("utf-8"))
        for path, content in files.items():
            atomic_write(path, content.encode("utf-8"))
    return changed


def verified_ledger(board: Dashboard) -> dict[str, dict[str, str]]:
    """The verifying run behind each "done" of the README: kept so a fresh clone agrees."""
    verify = board.run_settings.verify
    return {p.project.name.folder: {"profile": verify, "cache_key": p.verifying_key or ""}
            for p in board.projects if p.status == "done"}


def _text_of(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


# ---------------------------------------------------------------------------------------------
# HTML


PostUrl = Callable[[ProjectProgress], str | None]


def _e(text: object) -> str:
    return html.escape(str(text))


def _bar(share: float, label: str = "") -> str:
    width = f"{max(0.0, min(share, 1.0)) * 100:.1f}%"
    return (f'<div class="hundred-bar" role="progressbar" aria-valuenow="{width[:-1]}" '
            f'aria-label="{_e(label)}"><span style="width:{width}"></span></div>')


def _headline(board: Dashboard) -> str:
    target = board.settings.target
    pace = board.pace
    if pace.projected_finish is None:
        pace_text = "No project is done yet: finish one to set a pace."
    else:
        verdict = ""
        if board.settings.end is not None:
            verdict = (f' — target {board.settings.end}: <strong class="hundred-'
                       f'{"ok" if pace.on_track else "behind"}">'
                       f'{"on track" if pace.on_track else "behind"}</strong>')
        pace_text = (f"{pace.per_week:.2f} projects per week since {board.start}; at this pace "
                     f"the challenge ends on <strong>{pace.projected_finish}</strong>{verdict}.")
    current, longest = board.streaks()
    return (
        '<div class="hundred-headline">'
        f'<p class="hundred-big"><strong>{board.done}</strong> / {target} projects done</p>'
        f"{_bar(board.done / target, 'projects done')}"
        f'<p>{board.count("in-progress")} in progress · {board.count("failing")} failing · '
        f"streak {current} week(s), longest {longest}</p>"
        + (f'<p class="hundred-rot">{_e(board.rot_text().capitalize())}</p>' if board.rot
           else "")
        + (f'<p class="hundred-will-break">{_e(board.will_break_text().capitalize())}</p>'
           if board.will_break else "") +
        f'<p class="hundred-pace">{pace_text}</p></div>'
    )


def _grid(board: Dashboard, post_url: PostUrl) -> str:
    by_number = {p.project.number: p for p in board.projects}
    cells = []
    for number in range(1, board.settings.target + 1):
        progress = by_number.get(number)
        if progress is None:
            cells.append(f'<span class="hundred-cell-empty" title="{number:03d}: not started">'
                         "</span>")
            continue
        writeup = progress.project.writeup
        title = (f"{number:03d} · {writeup.title} — {STATUS_LABEL[progress.status]} "
                 f"({writeup.kind}): {progress.reason}")
        warned = len(progress.runs.deprecations)
        if warned:
            title += f"; will break on upgrade: {warned} deprecation warning(s)"
        classes = f"hundred-cell-{progress.status} {_kind_classes(writeup.kind)}"
        url = post_url(progress)
        inner = f"{number}"
        cells.append(f'<a class="{classes}" href="{_e(url)}" title="{_e(title)}">{inner}</a>'
                     if url else f'<span class="{classes}" title="{_e(title)}">{inner}</span>')
    legend = " ".join(f'<span class="hundred-legend hundred-cell-{s}">{label}</span>'
                      for s, label in STATUS_LABEL.items())
    return (f'<div class="hundred-grid">{"".join(cells)}</div>'
            f'<p class="hundred-legend-row">{legend} <span class="hundred-legend '
            f'hundred-cell-empty">not started</span> · outline: {_kind_legend(board)}, '
            f"none: {PLAIN_KIND}</p>")


def _kind_classes(kind: str) -> str:
    """A cell's kind classes; a kind word is a valid class name (hundred.catalog.is_kind)."""
    if kind in OUTLINED_KINDS or kind == PLAIN_KIND:
        return f"hundred-kind-{kind}"
    return f"hundred-kind-{kind} hundred-kind-other"


def _kind_legend(board: Dashboard) -> str:
    """The outlined kinds, then every other kind the projects use (dashed), by name."""
    others = sorted({p.project.writeup.kind for p in board.projects}
                    - {*OUTLINED_KINDS, PLAIN_KIND})
    return " ".join(f'<span class="hundred-legend hundred-legend-kind {_kind_classes(kind)}">'
                    f"{_e(kind)}</span>" for kind in (*OUTLINED_KINDS, *others))


def _calendar(board: Dashboard) -> str:
    """A week-by-day heat map of activity (writeups and runs), drawn as SVG."""
    first = board.start - dt.timedelta(days=board.start.weekday())
    weeks = max(((board.today - first).days // 7) + 1, 1)
    size, gap = 11, 3
    most = max(board.activity.values(), default=1)
    rects = []
    for week in range(weeks):
        for weekday in range(7):
            day = first + dt.timedelta(days=week * 7 + weekday)
            if day > board.today:
                continue
            count = board.activity.get(day, 0)
            level = 0 if count == 0 else 1 + min(3, (3 * count) // max(most, 1))
            rects.append(
                f'<rect class="hundred-level-{level}" x="{week * (size + gap)}" '
                f'y="{weekday * (size + gap)}" width="{size}" height="{size}" rx="2">'
                f"<title>{day}: {count} activit{'y' if count == 1 else 'ies'}</title></rect>")
    width = weeks * (size + gap)
    return (f'<svg class="hundred-calendar" viewBox="0 0 {width} {7 * (size + gap)}" '
            f'width="{width}" height="{7 * (size + gap)}" role="img" '
            f'aria-label="activity since {board.start}">{"".join(rects)}</svg>')


def _counts(title: str, counter: Counter[str], order: list[str]) -> str:
    total = max(sum(counter.values()), 1)
    rows = "".join(
        f'<div class="hundred-count"><span>{_e(key)}</span>{_bar(counter[key] / total, key)}'
        f"<span>{counter[key]}</span></div>" for key in order)
    return f'<div class="hundred-counts"><h3>{_e(title)}</h3>{rows}</div>'


def _leaderboard(board: Dashboard, post_url: PostUrl) -> str:
    rows = []
    for progress in board.projects:
        shown = progress.runs.results
        if shown is None or shown.headline is None:
            continue
        name, metric = shown.headline
        rows.append((name, -metric.value if metric.higher_is_better else metric.value,
                     progress, metric, shown.profile))
    if not rows:
        return "<p>No metric recorded yet.</p>"
    body = []
    for name, _, progress, metric, source in sorted(rows, key=lambda r: (r[0], r[1])):
        url = post_url(progress)
        title = _e(progress.project.writeup.title)
        link = f'<a href="{_e(url)}">{title}</a>' if url else title
        arrow = "↑" if metric.higher_is_better else "↓"
        body.append(f"<tr><td>{_e(name)} {arrow}</td><td>{metric.value:.4g}</td>"
                    f"<td>{progress.project.number:03d} · {link}</td><td>{source}</td></tr>")
    return ('<div class="hundred-leaderboard"><table><thead><tr><th>Metric</th><th>Value</th>'
            f'<th>Project</th><th>Run</th></tr></thead><tbody>{"".join(body)}</tbody></table>'
            "</div>")


def _roadmap(board: Dashboard, post_url: PostUrl) -> str:
    known = {stage.name.casefold() for stage in board.stages}
    blocks = []
    for stage in board.stages:
        members = [p for p in board.projects
                   if (p.project.writeup.stage or "").casefold() == stage.name.casefold()]
        blocks.append(_stage_block(stage.name, stage.description, members, post_url))
    others = [p for p in board.projects
              if p.project.writeup.stage and p.project.writeup.stage.casefold() not in known]
    if others:
        blocks.append(_stage_block("Other stages", "stages that are not in the roadmap",
                                   others, post_url))
    return f'<div class="hundred-roadmap">{"".join(blocks)}</div>'


def _stage_block(name: str, description: str, members: list[ProjectProgress],
                 post_url: PostUrl) -> str:
    done = sum(p.status == "done" for p in members)
    items = []
    for progress in members:
        url = post_url(progress)
        label = f"{progress.project.number:03d} · {_e(progress.project.writeup.title)}"
        inner = f'<a href="{_e(url)}">{label}</a>' if url else label
        items.append(f'<li class="hundred-cell-{progress.status}-text">{inner}</li>')
    state = "hundred-stage-empty" if not members else "hundred-stage"
    listing = f"<ul>{''.join(items)}</ul>" if items else "<p>No project yet.</p>"
    note = f'<p class="hundred-stage-note">{_e(description)}</p>' if description else ""
    return (f'<div class="{state}"><h3>{_e(name)} <small>{done}/{len(members)} done</small>'
            f"</h3>{note}{listing}</div>")


def _goals(board: Dashboard) -> str:
    if not board.goals:
        return "<p>No goals yet: list courses, competitions, papers in docs/goals.yml.</p>"
    groups = []
    for group, goals in board.goals.items():
        rows = []
        for goal in goals:
            name = (f'<a href="{_e(goal.link)}">{_e(goal.name)}</a>' if goal.link
                    else _e(goal.name))
            text = "done" if goal.progress == 100 else f"{goal.progress}%"
            rows.append(f'<div class="hundred-goal"><span>{name}</span>'
                        f"{_bar(goal.progress / 100, goal.name)}<span>{text}</span></div>")
        groups.append(f"<h3>{_e(group.capitalize())}</h3>{''.join(rows)}")
    return f'<div class="hundred-goals">{"".join(groups)}</div>'


def dashboard_html(board: Dashboard, post_url: PostUrl) -> str:
    """The dashboard as one HTML block (styled by docs/stylesheets/hundred.css)."""
    kinds: Counter[str] = Counter(str(p.project.writeup.kind) for p in board.projects)
    difficulty = Counter(f"{'★' * p.project.writeup.difficulty}" for p in board.projects)
    sections = [
        _headline(board),
        "<h2 id=\"progress\">Progress</h2>", _grid(board, post_url),
        "<h2 id=\"activity\">Activity</h2>", _calendar(board),
        "<h2 id=\"mix\">Kinds and difficulty</h2>",
        '<div class="hundred-columns">'
        + _counts("By kind", kinds, sorted(kinds))
        + _counts("By difficulty", difficulty, ["★" * n for n in range(1, 6)])
        + "</div>",
        "<h2 id=\"leaderboard\">Leaderboard</h2>", _leaderboard(board, post_url),
        "<h2 id=\"roadmap\">Roadmap</h2>", _roadmap(board, post_url),
        "<h2 id=\"goals\">Goals</h2>", _goals(board),
    ]
    return f'<div class="hundred-dashboard">{"".join(sections)}</div>'
