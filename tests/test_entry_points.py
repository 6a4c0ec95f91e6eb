"""Every widget factory and every public entry point, run once in a fresh process that imports only the package.

A notebook's globals can stand in for an import a module forgot (a widget callback that uses `np` without importing
it works in its notebook and fails elsewhere, on the first slider move). The script below runs in its own interpreter,
moves every slider and presses every button of each widget, and reports what it exercised; the tests also check that
every widget factory the package exports is in that report, and that every `imiebench` subcommand starts."""
import importlib, inspect, json, os, pkgutil, subprocess, sys
import pytest

SCRIPT = r'''
import json, sys, numpy as np, torch
from pathlib import Path
done = []
def ran(name): done.append(name)
tmp = Path(sys.argv[1])
img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
M = np.zeros((64, 64), np.float32); M[:32] = 1

from imiebench.models import tiny
sd, ip = tiny('sd'), tiny('ip2p')

# --- methods (tiny random weights: the calls, not the quality) ---
from imiebench.ddim import ddim_encode, ddim_decode
tr = ddim_encode(sd, sd.encode(img), num_inference_steps=4, r=0.5, progress=False); ran('ddim.ddim_encode')
ddim_decode(sd, tr, 'a red circle', num_inference_steps=4, r=0.5, mask=M, progress=False); ran('ddim.ddim_decode')
from imiebench.diffedit import diffedit, diffedit_mask
diffedit_mask(sd, img, 'a red circle', n=2, num_inference_steps=4); ran('diffedit.diffedit_mask')
diffedit(sd, img, 'a red circle', num_inference_steps=4, n=2, progress=False); ran('diffedit.diffedit')
from imiebench.emilie import ip2p_edit, instruction_mask, EditSession
ip2p_edit(ip, img, 'make it red', num_inference_steps=2, mask=M, control='null', progress=False); ran('emilie.ip2p_edit')
instruction_mask(ip, img, 'make it red', n=2); ran('emilie.instruction_mask')
s = EditSession(ip, img, num_inference_steps=2, progress=False); s.edit('make it red'); s.edit('make it blue', mask=M); s.undo()
p = s.save(tmp / 'session.pt'); EditSession.load(p, ip, progress=False); ran('emilie.EditSession')
from imiebench.reed import REEDConfig, train_reed, roundtrips
x = torch.rand(4, 3, 64, 64) * 2 - 1
train_reed(x, x[:2], REEDConfig(steps=2, batch_size=2, val_every=1, k=1, k_max=2), vae=sd.vae, progress=False); ran('reed.train_reed')
roundtrips(sd.vae, x[:1], n=2, at=(1, 2)); ran('reed.roundtrips')
from imiebench.elements.partition import partition
from imiebench.elements.model import encode_elements
from imiebench.elements.edit import apply_edits, ElementEdit
from imiebench.elements.decoders import decode_light, decode_diffusion
from imiebench.toy.elements import load_toy_elements
m = load_toy_elements()
el = encode_elements(m.encoder, img, partition(img, n=64, beta=16.)); ran('elements.partition'); ran('elements.encode_elements')
alive = [int(i) for i in np.flatnonzero(el.alive)]
el2 = apply_edits(el, [ElementEdit('move', alive[0], dy=2, dx=2)]); ran('elements.apply_edits')
decode_light(m, el2); ran('elements.decode_light')
decode_diffusion(m, el2, num_inference_steps=2); ran('elements.decode_diffusion')

# --- bench: a two-step case through every method, and the field's formats ---
from imiebench.bench.format import load_bench
from imiebench.bench.methods import METHODS, BenchConfig, run_units
from imiebench.toy.zoo import load_toy
case = load_bench('shapes').cases[0]
cfg = BenchConfig(steps=2, mask_n=2, seeds=(0,))
for meth in METHODS:
    run_units(meth, [(case, 0)], cfg, ip2p=load_toy('ip2p'), sd=load_toy('sd')); ran(f'bench.{meth}')
from imiebench.bench.formats import demo_magicbrush, demo_pie_bench, load_magicbrush, load_pie_bench
load_magicbrush(demo_magicbrush(tmp / 'mb')); load_pie_bench(demo_pie_bench(tmp / 'pie')); ran('bench.formats')

# --- widgets: build each, move every slider, press every button ---
from imiebench.widgets.sliders import slider_view
v = slider_view(lambda a, k: np.full((8, 8, 3), int(a * 200) + k, np.uint8), a=(0.0, 1.0, 0.1, 0.5), k=(0, 10, 1, 2))
for sl in v.sliders.values(): sl.value = sl.max
assert v.error is None and v.calls == 3, (v.error, v.calls); ran('widgets.sliders.slider_view'); ran('widgets.sliders.SliderView')

from imiebench.widgets.explorers import edit_explorer
from imiebench.widgets.session import session_widget
v = edit_explorer(sd, img, 'a red circle', steps=4)
for sl in v.sliders.values(): sl.value = sl.max if sl.value != sl.max else sl.min
assert v.error is None, repr(v.error); assert v.calls == 1 + len(v.sliders), v.calls; ran('widgets.explorers.edit_explorer')
from imiebench.widgets.explorers import roundtrip_explorer
v = roundtrip_explorer({'a': sd.vae}, img, k_max=3); v.sliders['k'].value = 2; v.settle()
assert v.error is None and v.k == 2; ran('widgets.explorers.roundtrip_explorer')

w = session_widget(EditSession(ip, img, num_inference_steps=2, progress=False)); c = w.controls
c['text'].value = 'make it red'; c['run'].click()
c['mask_from'].value = 'rectangle'; c['xs'].value = (0, 32); c['text'].value = 'make it blue'; c['run'].click()
c['mask_from'].value = 'brush'; c['brush'].mask = M > 0; c['run'].click()
c['undo'].click(); c['s_t'].value = 5.0; c['s_i'].value = 2.0; c['run'].click()
assert 'color:#b00' not in c['status'].value, c['status'].value; assert len(w.session) == 3, len(w.session)
ran('widgets.session.session_widget')

from imiebench.widgets.brush import MaskBrush
b = MaskBrush(img); b.mask = M > 0; assert b.mask.sum() == M.sum(); ran('widgets.brush.MaskBrush')
from imiebench.widgets.elements import element_editor, element_widget
e = element_widget(el, img); assert len(e.edits) == 0; ran('widgets.elements.element_widget'); ran('widgets.editor.ElementEditor')
e = element_editor(m, img, steps=2)
for name in ('dy', 'dx', 'scale'): sl = e.controls[name]; sl.value = sl.max
for op in ('move', 'resize', 'delete'): e.apply(op)
e.controls['decoder'].value = 'diffusion'; e.decode(); e.reset()
ran('widgets.elements.element_editor')

# --- the command line's short demo, through `cli.main` as `imiebench demo` runs it ---
from imiebench.cli import main
main(['demo', '--n', '1', '--steps', '2', '--out', str(tmp / 'demo')])
assert (tmp / 'demo' / 'demo.png').exists() and len(json.loads((tmp / 'demo' / 'demo.json').read_text())['edit_ok']) == 1; ran('cli.demo')
print('EXERCISED ' + json.dumps(done))
'''

def _exported(package: str) -> dict[str, object]:
    "Public names of every module of `package` (by `__all__`)."
    pkg = importlib.import_module(package); out = {}
    for mod in pkgutil.iter_modules(pkg.__path__, package + '.'):
        m = importlib.import_module(mod.name)
        out.update({f"{mod.name.split('.', 1)[1]}.{n}": getattr(m, n) for n in getattr(m, '__all__', [])})
    return out

def _is_widget_factory(name: str, obj) -> bool:
    "Something a notebook calls to get a widget: a *_widget/_explorer/_editor/_view function or an ipywidgets DOMWidget class."
    import ipywidgets
    if inspect.isclass(obj): return issubclass(obj, ipywidgets.DOMWidget)
    return callable(obj) and name.rsplit('.', 1)[1].endswith(('_widget', '_explorer', '_editor', '_view'))

@pytest.fixture(scope='module')
def exercised(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('entry')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'} | dict(OMP_NUM_THREADS='1', MPLBACKEND='Agg', HF_HUB_OFFLINE='1')
    p = subprocess.run([sys.executable, '-c', SCRIPT, str(tmp)], cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-4000:]
    line = [l for l in p.stdout.splitlines() if l.startswith('EXERCISED ')]
    assert line, p.stdout[-2000:]
    return set(json.loads(line[-1][len('EXERCISED '):]))

def test_every_widget_factory_runs_in_a_fresh_process(exercised):
    factories = {n for n, o in _exported('imiebench.widgets').items() if _is_widget_factory(n, o)}
    assert factories, "found no widget factories: the discovery is broken"
    missing = factories - exercised
    assert not missing, f"widget factories not exercised by the fresh-process script: {sorted(missing)} (add them to SCRIPT)"

def test_every_bench_method_runs_in_a_fresh_process(exercised):
    from imiebench.bench.methods import METHODS
    assert {f'bench.{m}' for m in METHODS} <= exercised

def test_every_cli_subcommand_starts(exercised, tmp_path):
    "`imiebench <cmd> --help` through `cli.main` for every subcommand; the demo ran through `cli.main` in the fresh process."
    import contextlib, io
    from imiebench.cli import main, parser
    cmds = next(a for a in parser()._actions if a.dest == 'cmd').choices
    assert {'bench', 'demo', 'train-zoo', 'train-reed'} <= set(cmds)
    for c in cmds:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e: main([c, '--help'])
        assert e.value.code == 0 and 'usage' in out.getvalue(), (c, out.getvalue()[-2000:])
    assert 'cli.demo' in exercised
