"The bench report's figures are readable at 100 % (text ≥ 9 pt as shown, legends outside the axes) and its gallery has one panel per method and step."
import PIL.Image, pytest
from imiebench.bench.format import load_bench, BenchSet
from imiebench.bench.methods import BenchConfig
from imiebench.bench.runner import run_bench
from imiebench.bench.report import report_figures, figure_problems, FIG_DPI, MIN_FONT_PT
from imiebench.models import tiny

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A tiny run: two cases, one seed, two methods of different information groups, tiny models, 2 denoising steps."
    out = tmp_path_factory.mktemp('bench'); bench = BenchSet('tiny', load_bench('shapes', max_cases=2).cases)
    cfg = BenchConfig(steps=2, seeds=(0,), methods=('emilie', 'ip2p'), mask_n=2)
    rep = run_bench(bench, out, cfg, ip2p=tiny('ip2p'), sd=tiny('sd'), progress=False)
    return bench, out, cfg, rep

def test_figures_are_readable(run):
    bench, out, cfg, rep = run
    figs = report_figures(bench, out, cfg, rep)
    assert set(figs) == {'gallery', 'strip', 'drift', 'intervals'}
    for name, fig in figs.items():
        assert figure_problems(fig) == [], name  # every text ≥ 9 pt at 100 %, no legend over an axes
        sizes = [t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, 'get_fontsize') and getattr(a, 'get_text', lambda: '')().strip())]
        assert sizes and min(sizes) * FIG_DPI / 96 >= MIN_FONT_PT, name
        w, h = PIL.Image.open(out / f'{name}.png').size  # the PNG is the figure at FIG_DPI
        assert (w, h) == tuple(round(x * FIG_DPI) for x in fig.get_size_inches()), name
    assert len(figs['intervals'].legends) == 2 and len(figs['drift'].legends) == 1  # the legends are the figure's, outside the axes

def test_gallery_panels_and_link(run):
    bench, out, cfg, rep = run
    g = report_figures(bench, out, cfg, rep)['gallery']
    case = bench.cases[rep['gallery']['case_index']]; assert rep['gallery']['case'] == case.id
    assert len(g.axes) == len(rep['methods']) * (len(case.steps) + 1)  # methods × (input + each step)
    assert [a.get_ylabel() for a in g.axes[::len(case.steps) + 1]] == list(rep['methods'])  # one row per method
    assert all(a.images for a in g.axes)  # every step's image was saved and is shown
    assert '](gallery.png)' in (out / 'report.md').read_text() and (out / 'gallery.png').exists()

def test_figure_problems_finds_small_text_and_covering_legends():
    from matplotlib.figure import Figure
    fig = Figure(figsize=(4, 3)); ax = fig.subplots(); ax.plot([0, 1], [0, 1], label='line'); ax.legend(loc='center', fontsize=10)
    ax.set_title('tiny', fontsize=7)
    probs = figure_problems(fig, dpi=100)
    assert any("'tiny' is 7 pt" in p for p in probs) and any('overlaps axes 0' in p for p in probs)
    assert not any("'tiny' is" in p for p in figure_problems(fig, dpi=150))  # 7 pt at 150 dpi shows at 10.9 pt
