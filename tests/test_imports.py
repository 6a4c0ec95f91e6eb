"Every exported module imports in a fresh interpreter: no notebook globals leak into the package."
import ast, pkgutil, subprocess, sys
import imiebench

# every module, subpackages' modules included (`bench.format`, `widgets.brush`, ...); a subpackage's own `__init__` is empty
MODULES = sorted(m.name.removeprefix('imiebench.') for m in pkgutil.walk_packages(imiebench.__path__, 'imiebench.')
                 if not m.ispkg and not any(p.startswith('_') for p in m.name.split('.')))

def test_modules_found():
    assert {'core', 'models', 'bench.format', 'widgets.brush'} <= set(MODULES)

FRESH = r"""
import importlib, json, sys, traceback
bad = {}
for mod in sys.argv[1:]:
    for k in [k for k in sys.modules if k == 'imiebench' or k.startswith('imiebench.')]: del sys.modules[k]
    try: m = importlib.import_module('imiebench.' + mod); assert dir(m)
    except BaseException: bad[mod] = traceback.format_exc()[-1500:]
print(json.dumps(bad))
"""

def test_fresh_import():
    """Each module imports on its own: in one interpreter, every `imiebench` module is dropped from `sys.modules` before
    the next one is imported, so a module's code runs from scratch and finds only what it imports itself (third-party
    libraries stay loaded between imports, which only saves the time of loading torch 40 times)."""
    import json
    r = subprocess.run([sys.executable, '-c', FRESH, *MODULES], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    bad = json.loads(r.stdout.strip().splitlines()[-1])
    assert not bad, '\n\n'.join(f'{m}:\n{tb}' for m, tb in bad.items())

def test_every_module_is_exported_from_a_notebook():
    "Each module is in nbdev's index, i.e. it comes from a notebook (nobody wrote a .py by hand)."
    from imiebench._modidx import d
    missing = [m for m in MODULES if f'imiebench.{m}' not in d['syms']]
    assert not missing, missing


def test_module_sources_have_no_bad_escapes():
    "A backslash in a docstring (maths from a notebook's title, e.g. `$\\tilde y$`) must not become a tab or a warning."
    import re, warnings, pathlib
    for p in sorted(pathlib.Path(imiebench.__file__).parent.rglob('*.py')):
        src = p.read_text()
        with warnings.catch_warnings():
            warnings.simplefilter('error'); compile(src, str(p), 'exec')  # SyntaxWarning: invalid escape sequence
        doc = ast.get_docstring(ast.parse(src), clean=False) or ''
        assert not re.search(r'[\t\x0b\x08\x0c\x07]', doc), f"{p}: the module docstring holds a control character (an unescaped backslash?)"
