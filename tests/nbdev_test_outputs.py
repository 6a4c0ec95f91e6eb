"""`nbdev_test`, and the outputs of every executed cell are checked as it runs (no extra execution): a cell that prints
a traceback, or writes to stderr anything that no pattern of tests/nb_output_allowlist.txt allows, fails its notebook.

    .venv/bin/python tests/nbdev_test_outputs.py [nbdev_test options, e.g. --n_workers 2 --do_print --path nbs/11_diffedit.ipynb]
"""
import re, sys
from pathlib import Path

ALLOWLIST = Path(__file__).with_name('nb_output_allowlist.txt')
TQDM = re.compile(r'^.*\d+%\|.*\|.*(it/s|s/it|\?it/s)?.*$|^\s*$')  # progress bars (widgets in Jupyter, text here)

def allowlist(path=ALLOWLIST) -> list[re.Pattern]:
    "The allowed stderr lines: one regular expression a line (`#` starts a comment line)."
    return [re.compile(l) for l in Path(path).read_text().splitlines() if l.strip() and not l.lstrip().startswith('#')]

def _text(o) -> str:
    t = o.get('text', '')
    return ''.join(t) if isinstance(t, list) else str(t)

def unexpected_outputs(cells, # notebook cells after execution (dicts or execnb's AttrDicts with `outputs`)
                       allow: list[re.Pattern]|None=None, # default: `allowlist()`
                      ) -> list[str]: # one line per offending output: 'cell N: ...'
    "Tracebacks and error outputs anywhere, and stderr lines that are neither progress bars nor allowed."
    allow = allowlist() if allow is None else allow
    bad = []
    for i, c in enumerate(cells):
        for o in c.get('outputs', []) or []:
            ot = o.get('output_type')
            if ot == 'error': bad.append(f"cell {i}: error output {o.get('ename')}: {o.get('evalue')}"); continue
            if ot != 'stream': continue
            text = _text(o)
            if 'Traceback (most recent call last)' in text: bad.append(f"cell {i}: a traceback in {o.get('name')}: {text[:300]!r}"); continue
            if o.get('name') != 'stderr': continue
            for line in re.split(r'[\r\n]+', text):
                if TQDM.match(line) or any(p.search(line) for p in allow): continue
                bad.append(f"cell {i}: stderr {line[:300]!r}")
    return bad

class NotebookOutputError(AssertionError): pass

class _CurrentStderr:
    "A stream that writes to whatever `sys.stderr` is when written to (each cell's capture), as Jupyter's stderr does."
    def write(self, s): return (sys.stderr if sys.stderr is not self else sys.__stderr__).write(s)
    def flush(self): (sys.stderr if sys.stderr is not self else sys.__stderr__).flush()

def _library_log_handlers():
    """diffusers' and transformers' log handlers bind sys.stderr once, at first use: bind them to `_CurrentStderr`, so that
    a library warning shows in the cell that caused it (as in Jupyter), not in the capture of the cell that imported it."""
    saved, sys.stderr = sys.stderr, _CurrentStderr()
    try:
        import diffusers.utils.logging as dl, transformers.utils.logging as tl
        dl.get_logger('diffusers'); tl.get_logger('transformers')
    finally: sys.stderr = saved

def _patch():
    from execnb.shell import CaptureShell
    _library_log_handlers()
    orig = CaptureShell.run_all
    def run_all(self, nb, *args, **kwargs):
        orig(self, nb, *args, **kwargs)
        bad = unexpected_outputs(nb.cells)
        if bad:
            self.exc = NotebookOutputError("outputs a reader would see as warnings or errors (allow a harmless one in "
                                           f"{ALLOWLIST.name}, or silence it at its source):\n" + '\n'.join(bad))
            raise self.exc
    CaptureShell.run_all = run_all
    import nbdev.test as T
    test_nb = T.test_nb
    def timed(fn, *args, **kwargs):  # each notebook's run time, as it finishes
        ok, secs = test_nb(fn, *args, **kwargs)
        print(f"- {Path(fn).name}: {'ok' if ok else 'FAILED'} in {secs:.0f} s", flush=True); return ok, secs
    timed.__module__, timed.__qualname__ = 'nbdev.test', 'test_nb'  # pickled by reference for the forked workers
    T.test_nb = timed

if __name__ == '__main__':
    _patch()  # nbdev_test's workers are forked from this process and inherit the patch
    from nbdev.test import nbdev_test
    sys.argv[0] = 'nbdev_test'; nbdev_test()
