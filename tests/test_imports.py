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


# What `core` and `models` exported before they gave names to sections of their own (`pipeline`; `words`, `loaders`,
# `architectures`), and the private names other modules import from them: all of it stays importable from there.
KEPT = dict(
    core=['ImageLike', 'RANGE_TOL', 'SCHEDULE_KEYS', 'DDIM_SD_OPTIONS', 'OUTPUT_TYPES', 'describe', 'check_finite', 'read_image',
          'to_tensor', 'fit_size', 'to_uint8', 'to_pil', 'resize_image', 'to_mask', 'resize_mask', 'check_prompt', 'check_prompts',
          'make_generator', 'seed_everything', 'default_device', 'default_dtype', 'check_number', 'check_int', 'check_choice',
          'check_bool', 'check_generator', 'check_latents', 'check_mask_batch', 'ddim_config', 'fresh_scheduler', 'noise_draws',
          'prepare_mask', 'check_output_type', 'postprocess', 'output_uint8', 'renamed'],
    models=['SPECIAL_TOKENS', 'UNKNOWN_WORDS', 'TINY_WORDS', 'TINY_KINDS', 'FULL_SIZE', 'quiet_log', 'word_tokenizer',
            'find_unknown_words', 'check_words', 'Bundle', 'encode', 'decode', 'embed', 'unet_kwargs', 'predict', 'n_tokens',
            'sd_scheduler_config', 'make_scheduler', 'predict_eps', 'WeightsNotFoundError', 'bundle_from_pipeline', 'check_bundle',
            'load_sd', 'load_ip2p', 'load_sdxl', 'load_ip2p_xl', 'save_bundle', 'as_pipeline', 'tiny_vae', 'tiny_text_encoder',
            'tiny_unet', 'tiny', 'set_memory', 'full_size', 'n_params', 'PREDICTION_TYPES', 'alpha_sigma', 'to_epsilon',
            'from_epsilon', 'DTYPE_KW', '_load_pipeline', '_random_module', '_check_pt'])

KEPT_FRESH = r"""
import importlib, json, sys
mod, names = sys.argv[1], sys.argv[2:]
m, bad = importlib.import_module('imiebench.' + mod), []
for n in names:
    try: exec(f'from imiebench.{mod} import {n}', {})
    except ImportError as e: bad.append(f'{n}: {e}')
print(json.dumps(bad))
"""

def test_names_kept_after_splits():
    "Every name `core` and `models` had stays importable from them (`from imiebench.core import ...`), in a fresh interpreter."
    import json
    for mod, names in KEPT.items():
        r = subprocess.run([sys.executable, '-c', KEPT_FRESH, mod, *names], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        bad = json.loads(r.stdout.strip().splitlines()[-1])
        assert not bad, f"no longer importable from imiebench.{mod}: {bad}"

def test_moved_names_come_from_their_sections():
    """Every module that gave names to a section (its `_MOVED` table: section module → names) serves each of them as the
    section's own object, and an unknown name is still an AttributeError."""
    import importlib, pytest
    is_table = lambda t: isinstance(t, dict) and all(isinstance(k, str) and k.startswith('imiebench.') and isinstance(v, (tuple, list)) for k, v in t.items())
    tables = {m: t for m in MODULES if is_table(t := getattr(importlib.import_module(f'imiebench.{m}'), '_MOVED', None))}
    assert {'core', 'models'} <= set(tables)
    for m, table in tables.items():
        mod = importlib.import_module(f'imiebench.{m}')
        for sec, names in table.items():
            s = importlib.import_module(sec)
            for n in names:
                assert hasattr(s, n), f"imiebench.{m}._MOVED names {n!r}, which {sec} lacks"
                assert getattr(mod, n) is getattr(s, n), f"imiebench.{m}.{n} is not {sec}.{n}"
        with pytest.raises(AttributeError, match='no_such_name'): getattr(mod, 'no_such_name')
