"""Every `imiebench` subcommand refuses a bad option at the command line: exit 2, argparse's usage line, a message naming
the option, never a traceback; a good command exits 0; every option's help (as `--help` prints it) has text and shows its
default; an image argument is a file path; REEDConfig refuses NaN, inf and non-positive numbers where a positive finite one
is meant."""
import argparse, contextlib, inspect, io, json, math, os, re, subprocess, sys
from pathlib import Path
import pytest
from imiebench.cli import main, parser, ZOO_STAGES
from imiebench.reed import REEDConfig

BIN = Path(sys.executable).parent / 'imiebench'
ENV = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'} | dict(OMP_NUM_THREADS='1', HF_HUB_OFFLINE='1')

def write_png(path: Path, h: int=47, w: int=61) -> Path:
    "A small RGB PNG of one's own (a red square on white), of a size the toy zoo was not trained on."
    import numpy as np, PIL.Image
    a = np.full((h, w, 3), 255, np.uint8); a[h // 4:h // 2, w // 4:w // 2] = (200, 30, 30)
    PIL.Image.fromarray(a).save(path); return path

def run(argv: list[str]) -> tuple[object, str]:
    "`main(argv)` in this process: (exit code, stderr); a command that returns exits 0."
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try: main(argv); code = 0
        except SystemExit as e: code = e.code
    return code, err.getvalue()

# (arguments after the subcommand, the option the message must name); {file} is an existing (text) file, {dir} an existing
# folder, {png} an existing 61×47 PNG
BAD = {
    'edit': [(['{dir}/missing.png', 'make it blue'], 'image'), (['{file}', 'make it blue'], 'image'), (['{dir}', 'x'], 'image'),
             (['{png}'], 'instruction'), (['{png}', 'x', '--mask', '{dir}/missing.png'], '--mask'), (['{png}', 'x', '--mask', '{file}'], '--mask'),
             (['{png}', 'x', '--steps', '0'], '--steps'), (['{png}', 'x', '--mode', 'pixel'], '--mode'), (['{png}', 'x', '--size', '0'], '--size'),
             (['{png}', 'x', '--seed', '-1'], '--seed'), (['{png}', 'x', '--out', '{dir}'], '--out'), (['{png}', 'x', '--device', 'gpu0'], '--device')],
    'demo': [(['--n', '0'], '--n'), (['--n', '-3'], '--n'), (['--n', 'two'], '--n'), (['--steps', '0'], '--steps'),
             (['--steps', '1.5'], '--steps'), (['--seed', '-1'], '--seed'), (['--device', 'gpu0'], '--device'),
             (['--out', '{file}'], '--out'), (['--out', ''], '--out')],
    'train-zoo': [(['--stages', 'clip,vea'], '--stages'), (['--stages', ''], '--stages'), (['--stages', 'clip,,vae'], '--stages'),
                  (['--stages', 'clip,clip'], '--stages'), (['--steps-scale', 'nan'], '--steps-scale'),
                  (['--steps-scale', 'inf'], '--steps-scale'), (['--steps-scale', '0'], '--steps-scale'),
                  (['--steps-scale', '1e300'], '--steps-scale'), (['--time-budget', 'nan'], '--time-budget'),
                  (['--time-budget', '0'], '--time-budget'), (['--workers', '0'], '--workers'), (['--n-pool', '0'], '--n-pool'),
                  (['--batch-size', '0'], '--batch-size'), (['--render-vary', '2'], '--render-vary'),
                  (['--render-vary', 'nan'], '--render-vary'), (['--ip2p-init', 'pix2pix'], '--ip2p-init'),
                  (['--out', '{file}'], '--out'), (['--work', '{file}'], '--work'), (['--device', 'gpu0'], '--device')],
    'bench': [(['--methods', ''], '--methods'), (['--methods', 'paint'], '--methods'), (['--methods', 'emilie,emilie'], '--methods'),
              (['--seeds', ''], '--seeds'), (['--seeds', '0,,1'], '--seeds'), (['--seeds', '-1'], '--seeds'), (['--seeds', 'a'], '--seeds'),
              (['--seeds', '0,0'], '--seeds'), (['--steps', '0'], '--steps'), (['--batch', '0'], '--batch'), (['--n-cases', '0'], '--n-cases'),
              (['--captions', 'both'], '--captions'), (['--precision', 'half'], '--precision'), (['--set', 'nowhere'], '--set'),
              (['--set', 'shipped:nowhere'], '--set'), (['--out', '{file}'], '--out'), (['--device', 'gpu0'], '--device')],
    'train-reed': [(['--lr', 'nan'], '--lr'), (['--lr', 'inf'], '--lr'), (['--lr', '0'], '--lr'), (['--lr', '-1e-3'], '--lr'),
                   (['--warmup', '0'], '--warmup'), (['--k', '0'], '--k'), (['--k-max', '0'], '--k-max'), (['--steps', '0'], '--steps'),
                   (['--batch-size', '0'], '--batch-size'), (['--patience', '0'], '--patience'), (['--val-every', '0'], '--val-every'),
                   (['--lambda-lpips', 'nan'], '--lambda-lpips'), (['--lambda-lpips', '-1'], '--lambda-lpips'),
                   (['--lambda-kl', 'inf'], '--lambda-kl'), (['--lambda-anchor', '-0.5'], '--lambda-anchor'),
                   (['--dynamic', 'maybe'], '--dynamic'), (['--first-step', '2'], '--first-step'), (['--ema-decay', '1'], '--ema-decay'),
                   (['--ema-decay', '0'], '--ema-decay'), (['--ema-decay', 'nan'], '--ema-decay'), (['--time-budget', '0'], '--time-budget'),
                   (['--time-budget', 'nan'], '--time-budget'), (['--grad-clip', '-1'], '--grad-clip'), (['--grad-clip', 'nan'], '--grad-clip'),
                   (['--seed', '-1'], '--seed'), (['--optimizer', 'adam'], '--optimizer'), (['--mixed-precision', 'fp8'], '--mixed-precision'),
                   (['--n-train', '0'], '--n-train'), (['--n-val', '-1'], '--n-val'), (['--out', '{file}'], '--out'),
                   (['--ckpt-dir', '{file}'], '--ckpt-dir'), (['--losses', '{dir}'], '--losses'),
                   (['--crop', '10'], '--crop'), (['--k', '3', '--k-max', '2'], '--k-max')],  # the last two: REEDConfig's own checks
}
CASES = [(cmd, args, opt) for cmd, rows in BAD.items() for args, opt in rows]

@pytest.mark.parametrize('cmd,args,opt', CASES, ids=[f"{c}{' '.join(a)}" for c, a, _ in CASES])
def test_bad_option_is_a_usage_error(cmd, args, opt, tmp_path):
    (tmp_path / 'file').write_text('x'); png = write_png(tmp_path / 'mine.png')
    args = [a.format(file=tmp_path / 'file', dir=tmp_path, png=png) for a in args]
    code, err = run([cmd, *args])
    assert code == 2, (cmd, args, code, err)
    assert err.startswith('usage: imiebench'), err
    assert opt in err.splitlines()[-1], (opt, err)  # argparse's last line: "imiebench cmd: error: argument --opt: ..."
    assert 'Traceback' not in err

def test_every_subcommand_has_bad_cases():
    cmds = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(cmds) == set(BAD), set(cmds) ^ set(BAD)

def _parsers() -> dict[str, argparse.ArgumentParser]:
    from imiebench.toy.reed import parser as reed_parser
    subs = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    return {k: v for k, v in subs.items() if k != 'train-reed'} | {'train-reed': reed_parser()}

def test_every_option_has_help_with_its_default():
    for cmd, p in _parsers().items():
        assert p.formatter_class is argparse.ArgumentDefaultsHelpFormatter, cmd
        acts = [a for a in p._actions if not isinstance(a, argparse._HelpAction)]
        assert acts and all(a.help for a in acts), (cmd, [a.dest for a in acts if not a.help])
        opts = [a for a in acts if a.option_strings]  # positionals are required: no default to show
        assert p.format_help().count('(default:') == len(opts), cmd

def help_entries(text: str) -> dict[str, str]:
    "`--help` output parsed: each argument's first invocation word (`--steps`, `image`) → its help text (joined lines)."
    out, key = {}, None
    for line in text.splitlines():
        if not line.strip() or not line.startswith(' '): key = None; continue  # a blank line or a section title
        m = re.match(r'^  (-\S+|[a-z][\w-]*)(?:[ ,][^ ].*?)?(?:\s{2,}(.*))?$', line)
        if m and len(line) - len(line.lstrip()) == 2: key = m.group(1); out[key] = (m.group(2) or '').strip()
        elif key is not None: out[key] = (out[key] + ' ' + line.strip()).strip()
    return out

@pytest.mark.parametrize('cmd', ['demo', 'edit', 'train-zoo', 'bench', 'train-reed'])
def test_help_output_explains_every_option(cmd, monkeypatch):
    "What `imiebench CMD --help` prints: every option listed with help text and `(default: X)` showing its real default."
    monkeypatch.setenv('COLUMNS', '400')  # long defaults on one line (argparse wraps at the terminal's width)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e: main([cmd, '--help'])
    assert e.value.code == 0
    entries, p = help_entries(out.getvalue()), _parsers()[cmd]
    for a in p._actions:
        if isinstance(a, argparse._HelpAction): continue
        key = a.option_strings[0] if a.option_strings else (a.metavar or a.dest)
        assert key in entries, (cmd, key, sorted(entries))
        text = entries[key]
        if a.option_strings:
            m = re.search(r'\(default: (.*)\)$', text)
            assert m, (cmd, key, text)
            shown = m.group(1); assert shown == str(a.default), (cmd, key, shown, a.default)
            text = text[:m.start()]
        assert len(text.strip()) >= 8, (cmd, key, text)  # real words, not just the default

def test_edit_a_png_of_ones_own(tmp_path):
    "`imiebench edit` on a 61×47 PNG outside the repository (the console script): the image path is read, resized, edited, written."
    import PIL.Image
    src = write_png(tmp_path / 'mine.png'); mask = tmp_path / 'mask.png'
    PIL.Image.new('L', (61, 47), 255).save(mask)
    p = subprocess.run([str(BIN), 'edit', str(src), 'make the red square blue', 'remove the red square', '--steps', '2', '--mask', str(mask),
                        '--out', str(tmp_path / 'out' / 'edited.png')], capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert PIL.Image.open(tmp_path / 'out' / 'edited.png').size == (64, 64) and (tmp_path / 'out' / 'edited_strip.png').is_file()
    assert 'shapes world' in p.stdout and 'Traceback' not in p.stderr, p.stdout

def test_good_options_parse():
    a = parser().parse_args(['train-zoo', '--stages', 'vae, sd', '--steps-scale', '0.01', '--render-vary', '0'])
    assert (a.stages, a.steps_scale, a.render_vary) == (('vae', 'sd'), 0.01, 0.0)
    assert parser().parse_args(['train-zoo']).stages == ('clip', 'vae', 'sd', 'ip2p', 'decoder', 'assemble')  # the default, converted
    a = parser().parse_args(['bench', '--seeds', '3,1', '--methods', 'ip2p,emilie'])
    assert (a.seeds, a.methods) == ((3, 1), ('ip2p', 'emilie'))
    from imiebench.toy.reed import parser as reed_parser
    for s, v in [('on', True), ('off', False), ('yes', True), ('no', False), ('1', True), ('0', False), ('TRUE', True), ('False', False)]:
        assert reed_parser().parse_args(['--dynamic', s]).dynamic is v, s
    a = reed_parser().parse_args(['--crop', 'none', '--ema-decay', 'None', '--grad-clip', '0', '--time-budget', '2.5'])
    assert (a.crop, a.ema_decay, a.grad_clip, a.time_budget) == (None, None, 0.0, 2.5)

def test_zoo_stages_are_train_zoos():
    from imiebench.toy.zoo import train_zoo
    assert set(inspect.signature(train_zoo).parameters['stages'].default) <= set(ZOO_STAGES)

def test_demo_function_checks_its_arguments(tmp_path):
    from imiebench.cli import demo
    with pytest.raises(ValueError, match='n must be'): demo(tmp_path, n=0)
    with pytest.raises(ValueError, match='steps must be'): demo(tmp_path, steps=0)
    (tmp_path / 'f').write_text('x')
    with pytest.raises(ValueError, match='existing file'): demo(tmp_path / 'f')

@pytest.mark.parametrize('field,value', [('lr', math.nan), ('lr', math.inf), ('lr', 0.), ('lr', -1e-3), ('warmup', 0), ('k', 0),
                                         ('steps', 0), ('batch_size', 0), ('ckpt_every', 0), ('seed', -1),
                                         ('lambda_lpips', math.nan), ('lambda_kl', math.inf), ('lambda_anchor', -1.),
                                         ('grad_clip', math.nan), ('grad_clip', -1.), ('ema_decay', math.nan), ('ema_decay', 1.),
                                         ('time_budget', math.nan), ('time_budget', math.inf), ('time_budget', 0.)])
def test_reed_config_refuses_nonfinite_and_nonpositive(field, value):
    with pytest.raises(ValueError, match=f"REEDConfig.{field}"): REEDConfig(**{field: value})

@pytest.mark.parametrize('field,value', [('lr', '1e-2'), ('warmup', 2.0), ('dynamic', 'on'), ('cpu', 1), ('seed', None)])
def test_reed_config_refuses_wrong_types(field, value):
    with pytest.raises(TypeError, match=f"REEDConfig.{field}"): REEDConfig(**{field: value})

def test_reed_config_accepts_its_edges():
    REEDConfig(lr=1, warmup=1, grad_clip=None, time_budget=None, ema_decay=None, lambda_lpips=0., lambda_kl=0., crop=8)
    REEDConfig(grad_clip=0., time_budget=0.5, ema_decay=0.999, seed=0)

def test_entry_point_usage_error_in_a_fresh_process():
    "The console script itself: a bad option exits 2 with the usage line (no torch imported for it)."
    p = subprocess.run([str(BIN), 'demo', '--steps', 'nan'], capture_output=True, text=True, env=ENV, timeout=120)
    assert p.returncode == 2 and p.stderr.startswith('usage: imiebench demo') and 'argument --steps' in p.stderr, p.stderr
    assert 'Traceback' not in p.stderr

def test_train_reed_entry_point_exits_0(tmp_path):
    "A good `imiebench train-reed` exits 0 with nothing on stderr (the console script passes main's return to sys.exit)."
    cmd = [str(BIN), 'train-reed', '--steps', '1', '--n-train', '2', '--n-val', '1', '--batch-size', '1', '--val-every', '1',
           '--warmup', '1', '--no-progress', '--dynamic', 'off', '--out', str(tmp_path / 'vae'), '--losses', str(tmp_path / 'c' / 'l.json')]
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert 'REEDResult' not in p.stderr and 'Traceback' not in p.stderr, p.stderr[-3000:]
    assert 'REED: 1 steps' in p.stdout, p.stdout
    assert (tmp_path / 'vae' / 'config.json').exists() and json.loads((tmp_path / 'c' / 'l.json').read_text())['steps'] == 1
