"Every exported module imports in a fresh interpreter: no notebook globals leak into the package."
import pkgutil, subprocess, sys
import pytest
import imiebench

# every module, subpackages' modules included (`bench.format`, `widgets.brush`, ...); a subpackage's own `__init__` is empty
MODULES = sorted(m.name.removeprefix('imiebench.') for m in pkgutil.walk_packages(imiebench.__path__, 'imiebench.')
                 if not m.ispkg and not any(p.startswith('_') for p in m.name.split('.')))

def test_modules_found():
    assert {'core', 'models', 'bench.format', 'widgets.brush'} <= set(MODULES)

@pytest.mark.parametrize('mod', MODULES)
def test_fresh_import(mod):
    r = subprocess.run([sys.executable, '-c', f'import imiebench.{mod} as m; print(len(dir(m)))'],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert int(r.stdout.strip()) > 0

def test_every_module_is_exported_from_a_notebook():
    "Each module is in nbdev's index, i.e. it comes from a notebook (nobody wrote a .py by hand)."
    from imiebench._modidx import d
    missing = [m for m in MODULES if f'imiebench.{m}' not in d['syms']]
    assert not missing, missing
