"Every python code block of README.md runs as written (each on its own, in a fresh namespace, offline, on the toy zoo)."
import re
from pathlib import Path
import pytest

README = Path(__file__).parents[1] / 'README.md'

def code_blocks(text: str) -> list[str]:
    "Fenced blocks marked ```python, and unmarked ones (code cells of nbs/index.ipynb render as plain fences)."
    return [m.group(2) for m in re.finditer(r'^```([a-z]*)\n(.*?)^```', text, re.S | re.M) if m.group(1) in ('python', '')]

BLOCKS = code_blocks(README.read_text())

def test_readme_has_examples():
    assert len(BLOCKS) >= 6, f"expected the method examples in README.md, found {len(BLOCKS)} python blocks"

@pytest.mark.parametrize('i', range(len(BLOCKS)))
def test_readme_block_runs(i, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path); monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    exec(compile(BLOCKS[i], f'README.md python block {i}', 'exec'), {'__name__': '__readme__'})
