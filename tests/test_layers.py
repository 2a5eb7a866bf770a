"""The import contracts of pyproject.toml ([tool.importlinter]) hold: apps import downward only
(crm.demo > analytics > club > service > customers > accounts > crm), no app has an import cycle, and the
rule modules read no selectors and call no services. The same check as `make lint`."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_every_import_contract_is_kept():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "400"}, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    kept = {line.removesuffix(" KEPT").split(" KEPT (")[0] for line in result.stdout.splitlines() if " KEPT" in line}
    assert kept == {contract["name"] for contract in contracts}, result.stdout
