"""What a newcomer meets first: notebooks that open on a kernel, no backend switching, a fast command line, quiet notebook
outputs (the checker nbdev_test runs with), figure counting for the docs."""
import json, logging, re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
from nbdev_test_outputs import unexpected_outputs, allowlist
from check_docs_figures import draws, figures

NBS = sorted((ROOT / 'nbs').glob('*.ipynb'))

def test_notebooks_name_a_kernel():
    for p in NBS:
        ks = json.loads(p.read_text())['metadata'].get('kernelspec', {})
        assert ks.get('name') == 'python3' and ks.get('language') == 'python', f"{p.name}: kernelspec {ks} (JupyterLab would ask for a kernel)"

def test_nothing_switches_the_matplotlib_backend():
    pat = re.compile(r"matplotlib\.use\(|plt\.switch_backend\(|MPLBACKEND")
    for p in NBS + sorted((ROOT / 'imiebench').glob('*.py')):
        src = p.read_text() if p.suffix == '.py' else '\n'.join(''.join(c['source']) for c in json.loads(p.read_text())['cells'])
        assert not pat.search(src), f"{p.name} sets a matplotlib backend: figures would not show in Jupyter or the docs"

def test_cli_starts_without_torch():
    code = "import sys, imiebench.cli as c; assert 'torch' not in sys.modules and 'numpy' not in sys.modules, sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy'))[:5]"
    subprocess.run([sys.executable, '-c', code], check=True)
    out = subprocess.run([str(Path(sys.executable).parent / 'imiebench'), '--help'], check=True, capture_output=True, text=True).stdout
    assert all(k in out for k in ('demo', 'bench', 'train-zoo', 'train-reed')), out

def test_library_notices_dropped_narrowly():
    from imiebench.models import quiet_log
    lg, msgs = logging.getLogger('diffusers.models.modeling_utils'), []
    h = logging.Handler(); h.emit = lambda r: msgs.append(r.getMessage()); lg.addHandler(h)
    try:
        lg.warning("There are modules in AutoencoderKL that should be kept in float32: []. Casting directly ...")  # vacuous: dropped
        lg.warning("There are modules in UNet that should be kept in float32: ['norm']. Casting directly ...")  # names one: kept
        with quiet_log(lg.name, r'^custom notice'): lg.warning('custom notice 1'); lg.warning('another notice')
        lg.warning('custom notice 2')
    finally: lg.removeHandler(h)
    assert len(msgs) == 3 and "['norm']" in msgs[0] and msgs[1:] == ['another notice', 'custom notice 2'], msgs

def test_output_checker():
    cells = [dict(outputs=[dict(output_type='stream', name='stderr', text=['DDIM decode:  50%|█████     | 5/10 [00:01<00:01,  4.2it/s]\r'])]),
             dict(outputs=[dict(output_type='stream', name='stdout', text='hello\n')]),
             dict(outputs=[dict(output_type='stream', name='stderr', text='/x.py:3: UserWarning: something\n  warnings.warn(x)\n')]),
             dict(outputs=[dict(output_type='stream', name='stdout', text='Traceback (most recent call last):\n  File ...\nValueError: x\n')]),
             dict(outputs=[dict(output_type='error', ename='ValueError', evalue='bad', traceback=[])])]
    bad = unexpected_outputs(cells, allow=[])
    assert [b.split(':')[0] for b in bad] == ['cell 2', 'cell 2', 'cell 3', 'cell 4'], bad
    assert unexpected_outputs(cells[2:3], allow=[re.compile('UserWarning: something'), re.compile(r'^\s+warnings\.warn')]) == []
    assert isinstance(allowlist(), list)

def test_figure_counting():
    assert draws(ROOT / 'nbs' / '11_diffedit.ipynb') and not draws(ROOT / 'nbs' / 'index.ipynb')
    assert figures('<div><img alt="No description" src="data:image/png;base64,iVBOR"/></div><img src="x.png">') == 1

def test_docs_link_check(tmp_path):
    from check_docs_figures import broken_links, local_links
    assert local_links('<a href="a.html#x">a</a><img src="data:image/png;base64,x"><a href="https://x.org/y">y</a><a href="#top">t</a>'
                       '<script src="mathjax/MathJax.js?config=x"></script><a href="b%20c.html">b</a>') == ['a.html', 'mathjax/MathJax.js', 'b c.html']
    (tmp_path / 'mathjax').mkdir(); (tmp_path / 'mathjax' / 'MathJax.js').write_text('')
    page = tmp_path / 'p.html'
    page.write_text('<script src="mathjax/MathJax.js?config=x"></script><a href="p.html">self</a><a href="10_ddim.html">built later</a>'
                    '<a href="nowhere.html">missing</a><img src="fig.png">')
    assert broken_links(tmp_path, [page]) == ([('p.html', 'nowhere.html'), ('p.html', 'fig.png')], [('p.html', '10_ddim.html')])
