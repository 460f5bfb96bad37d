"""Leaderboard: aggregation against a hand computation, edge cases, outputs, and the HTML page
in a real headless browser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from jpeval.errors import ValidationError
from jpeval.leaderboard.aggregate import Board, build, load_runs, result_files
from jpeval.leaderboard.config import LeaderboardConfig, load_reported
from jpeval.leaderboard.render import to_html, to_markdown, write_all
from jpeval.requests import Loglikelihood, request_key
from jpeval.runner import RunConfig, run, select_tasks
from tests.conftest import ScriptedBackend, make_task, mc_rows, run_cli

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
MODELS = {  # name: (origin, params, skill %)
    "dom-large": ("domestic", 70, 90),
    "dom-small": ("domestic", 8, 55),
    "glob-mid": ("global", 12, 70),
    "xss-model": ("global", 1, 30),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    """Configs with four scripted models and the tiny model, results made by the real runner."""
    root = tmp_path_factory.mktemp("lb")
    tasks = root / "tasks"
    make_task(tasks, "keigo.lb_a", mc_rows(40, "a"))
    make_task(tasks, "keigo.lb_b", mc_rows(30, "b"))
    make_task(tasks, "culture.lb_c", mc_rows(50, "c"))
    (root / "configs" / "models").mkdir(parents=True)
    (root / "configs" / "reported").mkdir()
    for name, (origin, size, _) in MODELS.items():
        display = XSS if name == "xss-model" else name.upper()
        entry = {
            "name": name,
            "display_name": display,
            "model": f"org/{name}",
            "origin": origin,
            "params_b": size,
        }
        (root / "configs" / "models" / f"{name}.yaml").write_text(json.dumps(entry))
    (root / "configs" / "reported" / "r.yaml").write_text(
        '- {model: "Big <b>Model</b>", task: JCommonsenseQA, metric: accuracy, value: 0.9, '
        "shots: 4, source: card}\n"
    )
    (root / "configs" / "leaderboard.yaml").write_text(
        "categories:\n  keigo: {weight: 2, tasks: ['keigo.*']}\n"
        "  culture: {weight: 1, tasks: ['culture.*']}\n"
        "overall: [keigo, culture]\nbootstrap: 500\n"
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("JPEVAL_CONFIGS", str(root / "configs"))
    try:
        loaded = select_tasks(["*.lb_*"], [tasks])
        gold = {
            request_key(Loglikelihood(t.prompt(i, False), "")): t.target(i, False)
            for t in loaded
            for i in t.items
        }
        out = root / "results"
        for name, (_, _, skill) in MODELS.items():
            cfg = RunConfig(
                model=name, tasks=("*.lb_*",), include=(tasks,), output=out, use_cache=False
            )
            run(cfg, backend=ScriptedBackend(gold, chat=False, oracle=True, skill=skill))
        run(RunConfig(model=f"hf:{tiny_model}", tasks=("*.lb_*",), include=(tasks,), output=out))
    finally:
        mp.undo()
    return root


def _cfg(world: Path) -> LeaderboardConfig:
    import yaml

    return LeaderboardConfig.model_validate(
        yaml.safe_load((world / "configs" / "leaderboard.yaml").read_text())
    )


def _board(world: Path, monkeypatch: pytest.MonkeyPatch, results: Path | None = None) -> Board:
    monkeypatch.setenv("JPEVAL_CONFIGS", str(world / "configs"))
    runs = load_runs(result_files([results or world / "results"]))
    return build(_cfg(world), runs, load_reported(world / "configs" / "reported"))


def _item_scores(world: Path, model: str, task: str) -> np.ndarray:
    path = next((world / "results" / model).glob("*/samples/" + task + ".jsonl"))
    return np.array(
        [json.loads(line)["scores"]["accuracy"] for line in path.read_text().splitlines()]
    )


def test_aggregation_matches_hand_computation(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    board = _board(world, monkeypatch)
    row = next(r for r in board.models if r.name == "dom-large")
    a, b, c = (
        _item_scores(world, "dom-large", t) for t in ("keigo.lb_a", "keigo.lb_b", "culture.lb_c")
    )
    keigo, culture = (a.mean() + b.mean()) / 2, c.mean()
    overall = (2 * keigo + culture) / 3
    assert row.tasks["keigo.lb_a"].score == pytest.approx(a.mean())
    assert row.categories["keigo"] is not None and row.categories["keigo"].score == pytest.approx(
        keigo
    )
    assert row.overall is not None and row.overall.score == pytest.approx(overall)
    # an independent bootstrap (other generator) agrees on the interval within tolerance
    rng = np.random.default_rng(99)
    reps = []
    for _ in range(4000):
        ka = a[rng.integers(0, a.size, a.size)].mean()
        kb = b[rng.integers(0, b.size, b.size)].mean()
        kc = c[rng.integers(0, c.size, c.size)].mean()
        reps.append((2 * (ka + kb) / 2 + kc) / 3)
    lo, hi = np.quantile(reps, [0.025, 0.975])
    assert row.overall.lo == pytest.approx(lo, abs=0.03) and row.overall.hi == pytest.approx(
        hi, abs=0.03
    )


def test_ranks_ties_and_origins(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    board = _board(world, monkeypatch)
    scores = [r.overall.score for r in board.models if r.overall]
    assert scores == sorted(scores, reverse=True)
    top = board.models[0]
    assert top.name == "dom-large" and top.rank == 1
    for r in board.models:  # a rank counts only the models whose interval lies wholly above
        assert r.overall and r.rank == 1 + sum(
            o.overall.lo > r.overall.hi for o in board.models if o.overall
        )
    gap = next(g for g in board.gaps if g.category == "keigo")
    assert (gap.best_domestic, gap.best_global) == ("dom-large", "glob-mid")
    rows = {r.name: r for r in board.models}
    expected = (
        rows["dom-large"].categories["keigo"].score - rows["glob-mid"].categories["keigo"].score
    )  # type: ignore[union-attr]
    assert (
        gap.gap.score == pytest.approx(expected, abs=1e-5)
        and gap.gap.lo <= gap.gap.score <= gap.gap.hi
    )
    assert board.origin_means["domestic"]["keigo"] == pytest.approx(
        np.mean([rows[m].categories["keigo"].score for m in ("dom-large", "dom-small")])  # type: ignore[union-attr]
    )


def test_missing_task_and_newer_version(
    world: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    shutil.copytree(world / "results", results)
    # hand-crafted: glob-mid's culture task is missing; dom-small has a newer run at v2 of lb_a
    for f in (results / "glob-mid").glob("*.json"):
        data = json.loads(f.read_text())
        del data["tasks"]["culture.lb_c"]
        f.write_text(json.dumps(data))
    src = next((results / "dom-small").glob("*.json"))
    data = json.loads(src.read_text())
    data["run_id"] = "29990101T000000Z-v2v2v2"
    data["tasks"] = {"keigo.lb_a": {**data["tasks"]["keigo.lb_a"], "version": 2}}
    shutil.copytree(src.with_suffix(""), results / "dom-small" / data["run_id"])
    (results / "dom-small" / f"{data['run_id']}.json").write_text(json.dumps(data))

    board = _board(world, monkeypatch, results)
    rows = {r.name: r for r in board.models}
    assert rows["glob-mid"].categories["culture"] is None and rows["glob-mid"].overall is None
    assert rows["glob-mid"].rank is None and "keigo.lb_b" in rows["glob-mid"].tasks
    assert rows["glob-mid"].categories["keigo"] is None  # its keigo.lb_a is v1; the table shows v2
    assert next(t for t in board.tasks if t.name == "keigo.lb_a").version == 2
    assert rows["dom-small"].tasks["keigo.lb_a"].version == 2
    assert "keigo.lb_a" not in rows["dom-large"].tasks  # only v1 there: never mixed with v2
    assert any("dom-large keigo.lb_a v1" in s for s in board.skipped)
    assert "v2" in to_markdown(board)


def test_bad_results_file_is_a_clear_error(world: Path, tmp_path: Path) -> None:
    bad = tmp_path / "results" / "m"
    bad.mkdir(parents=True)
    (bad / "r.json").write_text('{"schema_version": 1, "run_id": 3}')
    with pytest.raises(ValidationError, match=r"r.json: model: required field is missing"):
        load_runs(result_files([tmp_path / "results"]))


def test_outputs_and_escaping(world: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    board = _board(world, monkeypatch)
    paths = write_all(board, tmp_path)
    assert sorted(p.name for p in paths) == [
        f"leaderboard.{x}" for x in ("csv", "html", "json", "md")
    ]
    md = (tmp_path / "leaderboard.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "Reported, not measured by jpeval" in md and "Big &lt;b&gt;Model&lt;/b&gt;" in md
    html = (tmp_path / "leaderboard.html").read_text()
    assert "<script>window.__pwned" not in html and "<b>Model" not in html
    assert "http" not in html.replace("http-equiv", "")  # self-contained: no fetches
    loaded = Board.model_validate_json((tmp_path / "leaderboard.json").read_text())
    assert loaded == board and loaded.schema_version == 1
    import pandas as pd

    csv = pd.read_csv(tmp_path / "leaderboard.csv")
    assert set(csv["model"]) == {r.name for r in board.models} and "keigo_lo" in csv


def test_cli_leaderboard(world: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "leaderboard",
        str(world / "results"),
        "--output",
        str(tmp_path),
        env={"JPEVAL_CONFIGS": str(world / "configs")},
    )
    assert "leaderboard.html" in proc.stdout and (tmp_path / "leaderboard.md").is_file()


def _browser():  # type: ignore[no-untyped-def]
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-dev-shm-usage",
        "--no-first-run",
    ):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=opts)


def test_html_page_in_headless_browser(
    world: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    board = _board(world, monkeypatch)
    page = tmp_path / "leaderboard.html"
    page.write_text(to_html(board), encoding="utf-8")
    browser = _browser()
    try:
        browser.get(page.as_uri())
        rows = browser.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")
        assert len(rows) == len(board.models) == 5

        def names() -> list[str]:
            rows = browser.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")
            return [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows]

        assert XSS in names()  # shown as text
        assert browser.execute_script("return window.__pwned") is None  # and never run
        size_header = browser.find_elements(By.CSS_SELECTOR, "#leaderboard thead th")[3]
        size_header.click()  # descending by size
        assert names()[:2] == ["DOM-LARGE", "GLOB-MID"]
        size_header.click()  # ascending; models without a size go last
        assert names()[0] == XSS
        Select(browser.find_element(By.ID, "origin-filter")).select_by_value("domestic")
        visible = [
            r
            for r in browser.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")
            if r.is_displayed()
        ]
        assert {r.find_elements(By.TAG_NAME, "td")[2].text for r in visible} == {"domestic"}
        assert browser.find_element(By.ID, "shown").text == "2 / 5 models"
        drill = browser.find_elements(By.CSS_SELECTOR, "details.drill")[0]
        drill.find_element(By.TAG_NAME, "summary").click()
        assert "keigo.lb_a" in drill.text
    finally:
        browser.quit()
