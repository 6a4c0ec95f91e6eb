"help() shows each parameter's meaning: every documented parameter (docment) of every public callable appears in its docstring."
import importlib, inspect, pkgutil, subprocess, sys

import pytest
from fastcore.docments import docments

import imiebench

MODULES = sorted(m.name for m in pkgutil.walk_packages(imiebench.__path__, 'imiebench.') if not m.name.endswith('_modidx'))

def _public(mod):
    for nm in getattr(mod, '__all__', ()):
        o = getattr(mod, nm, None)
        if (inspect.isfunction(o) or inspect.isclass(o)) and getattr(o, '__module__', None) == mod.__name__: yield nm, o

@pytest.mark.parametrize('name', MODULES)
def test_every_docment_is_in_the_docstring(name):
    mod = importlib.import_module(name)
    missing = []
    for nm, o in _public(mod):
        doc = inspect.getdoc(o) or ''
        for k, v in docments(o).items():
            if not v or k in ('self',) or (k == 'return' and inspect.isclass(o)): continue
            entry = f"    {v.splitlines()[0]}" if k == 'return' else f"{k}\n    {v.splitlines()[0]}"
            if entry not in doc: missing.append(f"{nm}: {k}")
    assert not missing, f"{name}: documented parameters missing from help(): {missing}"

def test_help_diffedit_in_a_fresh_process():
    "The issue's example: `help(diffedit)` names r with its meaning, in a process that imports only diffedit."
    out = subprocess.run([sys.executable, '-c', 'import imiebench.diffedit as d; help(d.diffedit)'], capture_output=True, text=True,
                         env={'PAGER': 'cat', 'OMP_NUM_THREADS': '1', 'PATH': ''}, check=True).stdout
    assert 'Parameters' in out and 'encoding ratio' in out and 'callback_on_step_end' in out, out

def test_methods_are_documented():
    from imiebench.models import Bundle
    from imiebench.core import to_tensor
    assert 'value_range\n    float tensors' in inspect.getdoc(to_tensor)
    assert inspect.getdoc(Bundle.to)  # a public method keeps its docstring
