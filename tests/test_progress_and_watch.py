"""`python -m book progress` and `python -m book watch`, as a learner uses them."""

import shutil
import subprocess
import sys
import time

import nbformat

from book import EXERCISES, ROOT, SOLUTIONS, progress

EXERCISE = "01-typed-aliases"


def test_progress_tells_not_started_done_and_broken(tmp_path):
    folders = {status: tmp_path / status for status in ("untouched", "solved", "broken")}
    for folder in folders.values():
        folder.mkdir()
    shutil.copy(EXERCISES / f"{EXERCISE}.ipynb", folders["untouched"])
    shutil.copy(SOLUTIONS / f"{EXERCISE}.ipynb", folders["solved"])
    broken = nbformat.read(SOLUTIONS / f"{EXERCISE}.ipynb", as_version=4)
    broken.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('oops')"))
    nbformat.write(broken, folders["broken"] / f"{EXERCISE}.ipynb")

    rows = {name: progress.survey(folder)[0] for name, folder in folders.items()}
    assert rows["untouched"].status == "not started"
    assert (rows["solved"].status, rows["solved"].score, rows["solved"].max_score) == ("done", 16, 16)
    assert rows["broken"].status == "broken" and "RuntimeError: oops" in rows["broken"].note
    assert progress.table(list(rows.values())).splitlines()[-1] == "1 of 3 exercises done"


def test_progress_command_lists_every_exercise():
    done = subprocess.run([sys.executable, "-m", "book", "progress"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for path in EXERCISES.glob("*.ipynb"):
        assert path.stem in done.stdout


def test_watch_grades_now_and_again_after_each_save(tmp_path):
    path = tmp_path / f"{EXERCISE}.ipynb"
    shutil.copy(EXERCISES / f"{EXERCISE}.ipynb", path)
    watcher = subprocess.Popen([sys.executable, "-m", "book", "watch", str(path), "--interval", "0.1", "--runs", "2"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in watcher.stdout:  # the first grading: the untouched starter
            lines.append(line)
            if line.startswith("score "):
                break
        assert "score 0/16" in "".join(lines)
        time.sleep(0.05)
        shutil.copy(SOLUTIONS / f"{EXERCISE}.ipynb", path)  # the learner saves a finished notebook
        rest, _ = watcher.communicate(timeout=120)
    finally:
        watcher.kill()
    assert watcher.returncode == 0
    assert "score 16/16" in rest
