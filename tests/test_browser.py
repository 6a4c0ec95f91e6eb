"""End to end in a real browser: JupyterLab on 127.0.0.1 (random free port, token, temp dir) driven by
headless Chromium through Playwright. A notebook with the mask brush (two views of one brush) and the element
editor is run; real mouse events paint, erase, drag and click; the kernel's state is read back with
`requestExecute` on the notebook's own kernel.

Needs Debian's `chromium` (tests/run_all.sh installs it) and the `playwright` PyPI package (never
`playwright install`). Missing either is a failure, not a skip."""
import json, os, shutil, signal, socket, subprocess, sys, secrets, time, urllib.request
from pathlib import Path

import numpy as np
import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
SIDE, SHOWN = 64, 256  # image side (pixels) and its CSS width: 4 CSS pixels per image pixel


def chromium_path() -> str:
    for name in (os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser'):
        if name and shutil.which(name): return shutil.which(name)
    pytest.fail("no chromium on PATH: the browser test needs Debian's chromium "
                "(`apt-get install chromium`; `bash tests/run_all.sh` installs it), or CHROMIUM=/path/to/chrome")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


NOTEBOOK = [
    f"""import numpy as np
from imiebench.widgets.brush import MaskBrush
from imiebench.widgets.editor import ElementEditor
img = np.zeros(({SIDE}, {SIDE}, 3), np.uint8); img[..., 2] = 180; img[:, :{SIDE // 2}, 0] = 200
brush = MaskBrush(img, brush_size=8, display_width={SHOWN})
import imiebench.widgets.brush; print('imiebench.widgets.brush from', imiebench.widgets.brush.__file__)""",
    "brush",
    "brush  # a second view of the same brush",
    f"editor = ElementEditor(img, centroids=[[16, 16], [48, 40]], sizes=[6, 6], display_width={SHOWN})\neditor",
]


def write_notebook(path: Path, cells: list[str]) -> Path:
    "A notebook of code `cells` on the `python3` kernel, written to `path`."
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nbformat.write(nb, path); return path


def open_and_run(pg, url: str, token: str, name: str, workspace: str|None=None):
    "Open notebook `name` in JupyterLab on page `pg` (in its own `workspace`, if given), wait until it is the current one, run every cell."
    pg.goto(f"{url}/lab/{f'workspaces/{workspace}/' if workspace else ''}tree/{name}?token={token}")
    pg.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.context"
                         f" && window.jupyterapp.shell.currentWidget.context.path === {name!r}")
    pg.evaluate("""async () => {
        const nb = window.jupyterapp.shell.currentWidget;
        await nb.context.ready; await nb.sessionContext.ready;
        window.__nb = nb;
        await window.jupyterapp.commands.execute('notebook:run-all-cells');
    }""")


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "A JupyterLab server in a temp dir; yields (url, token, root); killed (with its kernels) at the end."
    root = tmp_path_factory.mktemp('lab')
    write_notebook(root/'widgets.ipynb', NOTEBOOK)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in [os.environ.get('PYTHONPATH')] if p]),
               OMP_NUM_THREADS='1', JUPYTER_CONFIG_DIR=str(root/'.jupyter'), JUPYTER_RUNTIME_DIR=str(root/'.runtime'),
               JUPYTERLAB_SETTINGS_DIR=str(root/'.settings'), JUPYTERLAB_WORKSPACES_DIR=str(root/'.workspaces'),
               IPYTHONDIR=str(root/'.ipython'))
    log = open(root/'server.log', 'w')
    proc = subprocess.Popen(
        [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={port}', '--port-retries=0',
         f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}', '--allow-root',
         '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=None', '--ServerApp.terminals_enabled=False'],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f'http://127.0.0.1:{port}'
    try:
        t0 = time.time()
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{(root/'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2) as r:
                    if r.status == 200: break
            except OSError: pass
            if time.time() - t0 > 120: pytest.fail(f"JupyterLab did not answer in 120 s:\n{(root/'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, token, root
    finally:
        try: os.killpg(proc.pid, signal.SIGTERM)  # the server we started and the kernels it started
        except ProcessLookupError: pass
        try: proc.wait(15)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait()
        log.close()


@pytest.fixture(scope='module')
def page(lab):
    "The notebook open in headless Chromium with every cell run and every widget rendered."
    from playwright.sync_api import sync_playwright  # the PyPI package only; the browser is Debian's
    url, token, root = lab
    logs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'])
        try:
            pg = browser.new_page(viewport={'width': 1200, 'height': 1400})
            pg.on('console', lambda m: logs.append(f'{m.type}: {m.text}'))
            pg.set_default_timeout(120_000)
            open_and_run(pg, url, token, 'widgets.ipynb')
            try:
                pg.wait_for_function("() => document.querySelectorAll('.imie-brush canvas.imie-mask').length === 2"
                                     " && document.querySelectorAll('.imie-elements g.imie-el').length === 2")
            except Exception:
                pg.screenshot(path=str(root/'failed.png'))
                raise AssertionError(f"widgets did not render (screenshot {root/'failed.png'}); console:\n" + '\n'.join(logs[-40:])
                                     + f"\nserver log:\n{(root/'server.log').read_text()[-3000:]}")
            pg.logs = logs
            yield pg
        finally:
            browser.close()


def kernel(page, code: str) -> str:
    "Run `code` in the notebook's kernel; its stdout (an exception is raised here)."
    out = page.evaluate("""async (code) => {
        const k = window.__nb.sessionContext.session.kernel;
        let out = '', err = null;
        const f = k.requestExecute({code, store_history: false});
        f.onIOPub = (msg) => {
            if (msg.header.msg_type === 'stream') out += msg.content.text;
            if (msg.header.msg_type === 'error') err = msg.content.ename + ': ' + msg.content.evalue;
        };
        await f.done;
        return {out, err};
    }""", code)
    if out['err']: raise AssertionError(f"kernel error running {code!r}: {out['err']}")
    return out['out']


def wait_kernel(page, code: str, pred, timeout=30.0):
    "Poll `code`'s printed JSON in the kernel until `pred(value)`; returns the value."
    t0 = time.time()
    while True:
        v = json.loads(kernel(page, code))
        if pred(v): return v
        if time.time() - t0 > timeout: raise AssertionError(f"kernel state {v} from {code!r} never satisfied the check")
        time.sleep(0.2)


def to_page(box, x, y):
    "Page coordinates of the centre of image pixel (y, x)."
    return box['x'] + (x + 0.5) * box['width'] / SIDE, box['y'] + (y + 0.5) * box['height'] / SIDE


def stroke(page, box, pts, steps=16):
    page.mouse.move(*to_page(box, *pts[0]))
    page.mouse.down()
    for x, y in pts[1:]: page.mouse.move(*to_page(box, x, y), steps=steps)
    page.mouse.up()


def view_pixels(page) -> list:
    "Painted pixels (alpha > 0) of each brush view's overlay canvas, as sorted flat indices."
    return page.evaluate("""() => [...document.querySelectorAll('.imie-brush canvas.imie-mask')].map(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, idx = [];
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) idx.push((i - 3) / 4);
        return idx; })""")


def kernel_mask(page, root, updates):
    "Wait for the `updates`-th mask update from the browser; the kernel's mask as an array."
    v = wait_kernel(page, f"import json; np.save({str(root/'mask.npy')!r}, brush.mask); print(json.dumps(brush.updates))",
                    lambda n: n >= updates)
    assert v == updates, f"expected exactly {updates} mask updates (one per stroke), got {v}"
    return np.load(root/'mask.npy')


def test_brush_paints_and_erases_in_browser(page, lab):
    _, _, root = lab
    test_eq = lambda a, b: np.testing.assert_array_equal(a, b)
    out = kernel(page, "print(brush.updates, int(brush.mask.sum()), brush.shape)")
    assert out.split() == ['0', '0', f'({SIDE},', f'{SIDE})'], out
    assert str(REPO) in kernel(page, "import imiebench; print(imiebench.__file__)")
    canvas = page.locator('.imie-brush canvas.imie-mask').first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert abs(box['width'] - SHOWN) < 1, box

    # paint: one stroke along row 32 from x=8 to x=56 with an 8-pixel brush
    stroke(page, box, [(8, 32), (56, 32)])
    m = kernel_mask(page, root, 1)  # exactly one update for the whole stroke
    # hard-edged 8-px discs (centres within 4 px): rows 29..35 are covered all along; rows 28 and 36 only
    # where a stamp centre falls on a pixel centre
    assert m[29:36, 8:57].all(), "the band of the stroke is painted"
    assert not m[:27].any() and not m[38:].any(), "nothing painted far above or below the stroke"
    assert not m[:, :3].any() and not m[:, 61:].any(), "nothing painted beyond the stroke's ends"
    assert 400 < m.sum() < 560, m.sum()
    # both views of the brush show exactly the kernel's mask
    for view in view_pixels(page): test_eq(view, np.flatnonzero(m))

    # erase the right half of the stroke with a 12-px brush (size set from Python: the views follow)
    page.locator('.imie-brush .imie-erase').first.click()
    wait_kernel(page, "print(json.dumps(brush.mode))", lambda v: v == 'erase')
    kernel(page, "brush.brush_size = 12")
    page.wait_for_function("() => [...document.querySelectorAll('.imie-brush .imie-size-input')].every(e => e.value === '12')")
    stroke(page, box, [(32, 32), (62, 32)])
    m2 = kernel_mask(page, root, 2)
    assert not m2[:, 33:].any(), "erase removed the painted pixels right of x=32"
    assert m2[29:36, 8:24].all(), "the left part of the stroke is kept"
    test_eq(m2[:, :24], m[:, :24])
    for view in view_pixels(page): test_eq(view, np.flatnonzero(m2))

    # re-rendering: run the second display cell again; its new view is drawn from the model and shows the mask
    page.evaluate("""async () => {
        document.querySelectorAll('.imie-brush').forEach(e => e.dataset.old = '1');
        window.__nb.content.activeCellIndex = 2;
        await window.jupyterapp.commands.execute('notebook:run-cell');
    }""")
    page.wait_for_function("() => document.querySelectorAll('.imie-brush:not([data-old])').length === 1"
                           " && document.querySelectorAll('.imie-brush').length === 2")
    page.wait_for_function("(n) => document.querySelector('.imie-brush:not([data-old])').dataset.maskPixels === n", arg=str(m2.sum()))
    for view in view_pixels(page): test_eq(view, np.flatnonzero(m2))

    # Python → browser: clear() and a mask set from Python redraw every view
    kernel(page, "brush.clear()")
    page.wait_for_function("() => [...document.querySelectorAll('.imie-brush')].every(e => e.dataset.maskPixels === '0')")
    for view in view_pixels(page): assert view == []
    kernel(page, "sq = np.zeros((64, 64), bool); sq[10:20, 30:50] = True; brush.mask = sq")
    page.wait_for_function("() => [...document.querySelectorAll('.imie-brush')].every(e => e.dataset.maskPixels === '200')")
    sq = np.zeros((SIDE, SIDE), bool); sq[10:20, 30:50] = True
    for view in view_pixels(page): test_eq(view, np.flatnonzero(sq))
    # bad input from Python is an error in the kernel, and the views keep the mask
    assert 'does not match the image size 64×64' in kernel(page, "try: brush.mask = np.ones((32, 32), bool)\nexcept ValueError as e: print(e)")
    for view in view_pixels(page): test_eq(view, np.flatnonzero(sq))


def test_element_editor_in_browser(page, lab):
    svg = page.locator('.imie-elements svg').first
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    # click element 0 (at y=16, x=16): selects it
    page.mouse.click(*to_page(box, 16, 16))
    wait_kernel(page, "print(json.dumps(editor.selected))", lambda v: v == 0)
    # drag it by (dx, dy) = (10, 6) image pixels
    stroke(page, box, [(16, 16), (26, 22)], steps=10)
    edits = wait_kernel(page, "print(json.dumps([e.to_dict() for e in editor.edits]))", lambda v: len(v) >= 1)
    assert len(edits) == 1 and edits[0]['op'] == 'move' and edits[0]['id'] == 0, edits
    assert abs(edits[0]['dx'] - 10) < 0.3 and abs(edits[0]['dy'] - 6) < 0.3, edits
    # the + button resizes the selected element, the Delete key deletes it
    page.locator('.imie-elements .imie-grow').first.click()
    wait_kernel(page, "print(json.dumps(len(editor.edits)))", lambda n: n >= 2)
    page.mouse.click(*to_page(box, 26, 22))  # the element is now here
    page.keyboard.press('Delete')
    edits = wait_kernel(page, "print(json.dumps([e.to_dict() for e in editor.edits]))", lambda v: len(v) >= 3)
    assert [(e['op'], e['id']) for e in edits] == [('move', 0), ('resize', 0), ('delete', 0)], edits
    assert edits[1]['scale'] == 1.25
    state = json.loads(kernel(page, "c, s, alive = editor.state(); print(json.dumps([c.tolist(), s.tolist(), alive.tolist()]))"))
    assert state[2] == [False, True] and abs(state[1][0] - 7.5) < 1e-9, state
    page.wait_for_function("() => document.querySelector('.imie-elements').dataset.alive === '1'")
    # the notebook is still there (the Delete key did not reach JupyterLab's shortcuts)
    assert page.evaluate("() => window.__nb.content.widgets.length") == len(NOTEBOOK)


def test_docs_page_renders_maths_and_figures_offline(tmp_path, page):
    """One docs page built by `make docs` (10_ddim's maths lessons and a figure, as a small notebook) opened from file:// in
    headless Chromium with every non-file request refused: MathJax (the packaged copy in the site) typesets every formula,
    no raw `$...$` is left in the text, the figure loads, the link to another notebook points at its page."""
    lessons = [c for c in nbformat.read(REPO / 'nbs' / '10_ddim.ipynb', as_version=4).cells if c.cell_type == 'markdown' and '$' in c.source]
    nb = nbformat.v4.new_notebook(cells=lessons + [
        nbformat.v4.new_markdown_cell("Display maths: $$\\tilde y_t = M\\,y_t + (1 - M)\\,x_t$$ and the [DDIM page](10_ddim.ipynb)."),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.figure(figsize=(2, 2)); plt.plot([0, 1], [1, 0]); plt.show()")])
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nbformat.write(nb, tmp_path / 'maths_page.ipynb')
    site, venv = tmp_path / 'site', Path(sys.executable).parent.parent
    p = subprocess.run(['make', '-s', 'docs', f'NBS={tmp_path / "maths_page.ipynb"}', f'DOCS={site}', f'VENV={venv}', '-o', f'{venv}/.installed'],
                       cwd=REPO, capture_output=True, text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    html = (site / 'maths_page.html').read_text()
    assert 'src="mathjax/MathJax.js?' in html and 'cdnjs.cloudflare.com/ajax/libs/mathjax' not in html
    assert 'href="10_ddim.html"' in html and 'maths_page.html' in (site / 'contents.html').read_text()
    refused = []
    pg = page.context.browser.new_page()  # the module's browser (one Playwright per process), a page of its own
    try:
        pg.route('**/*', lambda r: r.continue_() if r.request.url.startswith('file:') else (refused.append(r.request.url), r.abort()))
        pg.goto((site / 'maths_page.html').as_uri())
        pg.wait_for_function("() => window.MathJax && MathJax.isReady && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running"
                             " && document.querySelectorAll('.MathJax, .MathJax_Display').length > 0", timeout=30_000)
        r = pg.evaluate("""() => ({
            formulae: document.querySelectorAll('script[type^="math/tex"]').length,
            rendered: [...document.querySelectorAll('script[type^="math/tex"]')].filter(s => {
                const e = s.previousElementSibling; return e && (e.classList.contains('MathJax') || e.classList.contains('MathJax_Display'))
                    && e.getBoundingClientRect().width > 0; }).length,
            errors: document.querySelectorAll('.MathJax_Error, .MathJax .merror').length,
            raw: [...document.querySelectorAll('.jp-RenderedMarkdown')].map(e => e.innerText).join('\\n').match(/\\$[^$\\n]+\\$/g),
            images: [...document.querySelectorAll('.jp-OutputArea img')].map(i => [i.complete, i.naturalWidth]),
        })""")
    finally:
        pg.close()
    n_inline = sum(c.source.replace('$$', '').count('$') // 2 for c in lessons)
    assert r['formulae'] >= n_inline + 1 and r['rendered'] == r['formulae'], r
    assert r['errors'] == 0 and not r['raw'], r
    assert r['images'] and all(ok and w > 0 for ok, w in r['images']), r
    assert not [u for u in refused if 'mathjax' in u.lower()], refused  # MathJax came from the site, not a CDN


def test_session_widget_preview_then_exact_in_browser(page, lab):
    """The EMILIE session widget in JupyterLab on the toy instruction model: an instruction typed, *edit* clicked; the preview
    is on screen while the exact edit is held back (it waits for a file the test writes once it has seen the preview),
    then the exact edit replaces it; *undo* and *redo*."""
    url, token, root = lab
    gate = root/'session.gate'
    setup = f"""import json, pathlib, time
from imiebench.toy.zoo import load_toy
from imiebench.toy.world import Scene, Obj, render
from imiebench.emilie import EditSession
from imiebench.widgets.session import session_widget
s = EditSession(load_toy('ip2p'), render(Scene([Obj('circle', 'red', 'large', 'top left')], 'blue'), {SIDE}), num_inference_steps=6, progress=False)
w = session_widget(s, preview_steps=2)
_edit, _gate = s.edit, pathlib.Path({str(gate)!r})
def held_edit(*a, **k):  # the exact edit starts once the test has seen the preview in the browser
    t0 = time.time()
    while not _gate.exists() and time.time() - t0 < 60: time.sleep(0.02)
    return _edit(*a, **k)
s.edit = held_edit"""
    write_notebook(root/'session.ipynb', [setup, 'w'])
    pg = page.context.browser.new_page(viewport={'width': 1200, 'height': 1400})  # a context of its own
    logs = []; pg.on('console', lambda m: logs.append(f'{m.type}: {m.text}'))
    pg.set_default_timeout(120_000)  # (the kernel imports torch and loads the toy model: slow on a busy machine)
    label = "() => (document.querySelector('.imie-session .imie-shown') || {}).textContent || ''"
    try:
        open_and_run(pg, url, token, 'session.ipynb', 'imie-session')
        pg.wait_for_function(f"() => ({label})().startsWith('original')")
        pg.evaluate(f"""() => {{  // every label the widget shows, in order
            const el = document.querySelector('.imie-session .imie-shown'), get = {label};
            window.__shown = [get()];
            new MutationObserver(() => {{ const t = get(); if (t !== window.__shown.at(-1)) window.__shown.push(t); }})
                .observe(el, {{subtree: true, childList: true, characterData: true}});
        }}""")
        box = pg.locator('.imie-session')
        button = lambda name: box.get_by_role('button', name=name, exact=True)
        assert button('undo').is_disabled() and button('redo').is_disabled()
        box.locator('input[type=text]').fill('make the red circle green')
        wait_kernel(pg, "print(json.dumps(w.controls['text'].value))", lambda v: v == 'make the red circle green')
        src = lambda: pg.evaluate("() => document.querySelector('.imie-session img.imie-result').src")
        first = src()
        button('edit').click()
        pg.wait_for_function(f"() => ({label})().startsWith('preview')")
        assert pg.evaluate(label).startswith('preview · 2 of 6 steps') and src() != first  # the preview image is shown ...
        time.sleep(0.3); assert pg.evaluate(label).startswith('preview')  # ... and stays while the exact edit is held back
        gate.touch()
        pg.wait_for_function(f"() => ({label})().startsWith('exact')")
        shown = pg.evaluate("() => window.__shown")
        assert [t.split(' ')[0] for t in shown] == ['original', 'preview', 'exact'], shown
        assert "'make the red circle green'" in shown[-1], shown
        pg.wait_for_function("() => ['result', 'strip'].every(k => { const i = document.querySelector('.imie-session img.imie-' + k);"
                             " return i && i.complete && i.naturalWidth >= 128 && i.clientWidth === i.naturalWidth"
                             " && i.clientHeight === i.naturalHeight; })", timeout=15_000)  # magnified PNGs shown at their own size: crisp
        v = json.loads(kernel(pg, "print(json.dumps([len(s), [f[0] for f in w.frames], w.counts]))"))
        assert v == [1, ['preview', 'exact'], dict(edits=1, redone=0, strips=1)], v
        button('undo').click()
        pg.wait_for_function(f"() => ({label})().startsWith('original')")
        assert json.loads(kernel(pg, "print(json.dumps(len(s)))")) == 0
        button('redo').click()  # enabled now: Playwright waits for it
        pg.wait_for_function(f"() => ({label})().startsWith('exact')")
        v = json.loads(kernel(pg, "print(json.dumps([len(s), s.history[-1].instruction, w.counts['edits']]))"))
        assert v == [1, 'make the red circle green', 1], v  # put back, not recomputed
        assert button('redo').is_disabled() and not button('undo').is_disabled()
    except Exception:
        pg.screenshot(path=str(root/'session_failed.png'))
        outs = pg.evaluate("() => window.__nb ? window.__nb.content.widgets.map(c => JSON.stringify(c.model.toJSON().outputs || [])) : []")
        raise AssertionError(f"session widget test failed (screenshot {root/'session_failed.png'}); cell outputs:\n"
                             + '\n'.join(o[-1500:] for o in outs) + "\nconsole:\n" + '\n'.join(logs[-30:]))
    finally:
        gate.touch()  # never leave the kernel waiting
        pg.close()


PREVIEW_NOTEBOOK = [
    """import json, time, numpy as np, torch
from imiebench.toy.zoo import load_toy, load_toy_vae, HELDOUT_SEED
from imiebench.toy.reed import load_toy_reed_vae, toy_data
from imiebench.toy.world import random_scene, random_edit
from imiebench.widgets.explorers import edit_explorer, roundtrip_explorer
sd = load_toy('sd')
e = random_edit(random_scene(np.random.default_rng(HELDOUT_SEED + 7)), np.random.default_rng(HELDOUT_SEED + 8), kinds=['recolor'])""",
    # 11's explorer (few steps: quick), then 30's round-trip slider
    """ex = edit_explorer(sd, e.source_image, e.query_caption, e.ref_caption, steps=10, brush=True, quiet=0.5)
ex.add_class('t-ex'); ex.sliders['threshold'].add_class('t-threshold'); ex""",
    """rt = roundtrip_explorer({'vanilla': load_toy_vae(), 'REED': load_toy_reed_vae()}, toy_data(1, 0, 'test'), value_range=(-1, 1), k_max=25, quiet=0.5)
rt.add_class('t-rt'); rt""",
]


def _watch_labels(pg, view: str):
    "Record every text the `view`'s preview/exact label shows, with the time (ms) and the image's src at that moment."
    pg.evaluate("""(view) => {
        const label = document.querySelector(`.${view} .imie-shown`), img = document.querySelector(`.${view} img`);
        window.__seen = window.__seen || {};
        const seen = window.__seen[view] = [];
        new MutationObserver(() => seen.push([label.textContent, performance.now(), img.src]))
            .observe(label, {childList: true, subtree: true, characterData: true});
    }""", view)


def _seen(pg, view: str) -> list:
    return pg.evaluate("(view) => window.__seen[view]", view)


def test_previews_then_exact_in_browser(page, lab):
    "11's DiffEdit explorer and 30's round-trip slider in a real browser: a slider moved by keyboard / mouse shows a labelled preview, then the exact result."
    url, token, root = lab
    write_notebook(root/'previews.ipynb', PREVIEW_NOTEBOOK)
    pg = page.context.browser.new_page(viewport={'width': 1200, 'height': 1400})  # a second page (its own workspace): the brush notebook's is left as it is
    try:
        pg.set_default_timeout(120_000)
        open_and_run(pg, url, token, 'previews.ipynb', 'previews')
        pg.wait_for_function("() => ['t-ex', 't-rt'].every(v => document.querySelector(`.${v} .imie-shown`)?.textContent === 'exact')"
                             " && document.querySelectorAll('.t-ex .imie-brush canvas.imie-mask').length === 1")
        settled = wait_kernel(pg, "print(json.dumps([ex.pending, rt.pending, ex.previews, rt.previews, ex.calls, rt.calls]))", lambda v: not v[0] and not v[1])
        assert settled[2:] == [0, 0, 1, 1], settled  # rendering ran nothing (a continuous slider's echo of its value is no change)
        full_s = json.loads(kernel(pg, "from imiebench.diffedit import diffedit\nt0 = time.perf_counter()\n"
                                       "diffedit(sd, e.source_image, e.query_caption, e.ref_caption, num_inference_steps=10, r=0.7, progress=False, generator=torch.Generator().manual_seed(0))\n"
                                       "print(json.dumps(time.perf_counter() - t0))"))

        # DiffEdit: the threshold slider, moved with the keyboard (two steps of 0.05 to the right)
        _watch_labels(pg, 't-ex')
        handle = pg.locator('.t-threshold .noUi-handle').first
        handle.scroll_into_view_if_needed(); handle.focus()
        t0 = pg.evaluate("() => performance.now()")
        pg.keyboard.press('ArrowRight'); pg.keyboard.press('ArrowRight')
        pg.wait_for_function("() => { const s = window.__seen['t-ex']; return s.length && s[s.length - 1][0] === 'exact'; }")
        seen = _seen(pg, 't-ex')
        texts = [s[0] for s in seen]
        assert texts[0] == 'preview (mask only)' and texts[-1] == 'exact', texts  # the preview appeared, then the exact edit
        assert seen[0][2] != seen[-1][2], "the exact edit replaced the preview's image"
        state = json.loads(kernel(pg, "print(json.dumps([ex.sliders['threshold'].value, ex.shown, ex.previews, ex.calls, ex.last.settings['threshold']]))"))
        assert state[0] > 0.5 and state[1] == 'exact' and state[2] >= 1 and state[3] >= 2 and state[4] == state[0], state
        err = json.loads(kernel(pg, "ref = diffedit(sd, e.source_image, e.query_caption, e.ref_caption, num_inference_steps=10, r=0.7, threshold=ex.sliders['threshold'].value, "
                                    "progress=False, generator=torch.Generator().manual_seed(0))\nprint(json.dumps(float((ex.last.image - ref.image).abs().max())))"))
        assert err < 1e-4, err  # what the browser shows last is what diffedit returns for that threshold
        preview_s, exact_s = (seen[0][1] - t0) / 1000, (seen[-1][1] - t0) / 1000
        print(f"browser, DiffEdit threshold: preview after {preview_s:.2f} s ({preview_s / full_s:.2f} of a full recompute, {full_s:.2f} s), "
              f"exact after {exact_s:.2f} s (quiet period 0.5 s)")

        # REED round trips: the k slider, dragged with the mouse to the right
        _watch_labels(pg, 't-rt')
        handle = pg.locator('.t-rt .noUi-handle').first
        handle.scroll_into_view_if_needed()
        hb, track = handle.bounding_box(), pg.locator('.t-rt .noUi-target').first.bounding_box()
        y = hb['y'] + hb['height'] / 2
        pg.mouse.move(hb['x'] + hb['width'] / 2, y); pg.mouse.down()
        pg.mouse.move(track['x'] + 0.3 * track['width'], y, steps=8); pg.mouse.up()
        pg.wait_for_function("() => { const s = window.__seen['t-rt']; return s.length && s[s.length - 1][0] === 'exact'; }")
        texts = [s[0] for s in _seen(pg, 't-rt')]
        assert texts[0] == 'preview (k = 0, the nearest computed)' and texts[-1] == 'exact', texts
        k, shown_k, computed, psnr = json.loads(kernel(pg, "print(json.dumps([rt.sliders['k'].value, rt.k, rt.cache.computed, rt.psnr]))"))
        assert 3 <= k <= 12 and shown_k == k and computed == k, (k, shown_k, computed)
        assert pg.locator('.t-rt').first.inner_text().count('dB') == 2 and f"after {k} round trips" in pg.locator('.t-rt').first.inner_text()
        assert set(psnr) == {'vanilla', 'REED'}
    finally:
        pg.close()
