"""The folders are the stages, and imports point down the flow: nothing imports a layer above
it, and the sample tooling is not shipped."""

import ast
import zipfile
from pathlib import Path

from orchestration.settings import ROOT

OURS = {"common", "ingestion", "transform", "activation", "orchestration", "scrm", "sample", "benchmarks", "tests"}
# what each folder may import of ours (besides itself)
ALLOWED = {
    "common": set(),
    "ingestion": {"common"},
    "transform": set(),
    "activation": {"common"},
    "orchestration": {"common", "ingestion", "activation"},
    "scrm": {"common", "ingestion", "activation", "orchestration", "sample"},  # sample: the demo commands
    "sample": {"common", "ingestion", "transform"},
    "dbt_project": {"transform"},  # the dbt Python model
    "benchmarks": OURS - {"tests"},
}
SCRATCH = {"scratch", "target", "__pycache__"}  # what runs leave behind (ignored by git)


def imported_packages(path: Path) -> set[str]:
    """Our top-level packages a file imports, at any depth (imports inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


def test_no_module_imports_from_a_layer_above_it():
    wrong = []
    for folder, allowed in ALLOWED.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if SCRATCH & set(path.relative_to(ROOT).parts):
                continue
            bad = imported_packages(path) - allowed - {folder}
            wrong += [f"{path.relative_to(ROOT)} imports {name}" for name in sorted(bad)]
    assert wrong == []


def test_the_check_itself_catches_a_back_import(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from orchestration.settings import ROOT\n    import sample.generator\n")
    assert imported_packages(source) == {"orchestration", "sample"}


def test_the_wheel_ships_the_stages_and_not_the_sample_tooling(tmp_path):
    from hatchling.builders.wheel import WheelBuilder

    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {"common", "ingestion", "transform", "activation", "orchestration", "scrm"} <= tops
    assert not tops & {"sample", "tests", "benchmarks"}, tops
