"benchmarks/harness.py: every result file carries command, commit, weights fingerprint and metrics (`SCHEMA`)."
import json, subprocess, sys
from pathlib import Path
import pytest, torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'benchmarks'))
import harness as H


def _write(tmp_path, **kw):
    return H.write_json(tmp_path / 'r.json', **(dict(command='python x.py --n 3', fingerprint=None, metrics={'a': 1}) | kw))


def test_write_json_writes_the_schema(tmp_path):
    p = _write(tmp_path, fingerprint='0123abcd', metrics={'psnr': 31.5})
    d = json.loads(p.read_text())
    assert set(d) == {'schema', 'command', 'commit', 'fingerprint', 'metrics'}
    assert d['schema'] == H.SCHEMA and d['command'] == 'python x.py --n 3' and d['fingerprint'] == '0123abcd'
    assert d['metrics'] == {'psnr': 31.5} and H.read_metrics(p) == {'psnr': 31.5}
    assert d['commit'] == H.git_commit()


@pytest.mark.parametrize('field', ['command', 'fingerprint', 'metrics'])
def test_write_json_refuses_a_missing_field(tmp_path, field):
    kw = dict(command='python x.py', fingerprint=None, metrics={})
    del kw[field]
    with pytest.raises(TypeError, match=f'missing {field}'): H.write_json(tmp_path / 'r.json', **kw)
    assert not (tmp_path / 'r.json').exists()


def test_write_json_refuses_the_old_form_and_bad_values(tmp_path):
    with pytest.raises(TypeError, match='old form.*metrics='): H.write_json(tmp_path / 'r.json', {'a': 1})
    with pytest.raises(TypeError, match='command_line'): _write(tmp_path, command='  ')
    with pytest.raises(TypeError, match='fingerprint must be a str'): _write(tmp_path, fingerprint=123)


def test_read_metrics_reads_files_from_before_the_schema(tmp_path):
    (tmp_path / 'old.json').write_text(json.dumps({'iou': 0.48, 'commands': {'iou': 'x'}}))
    assert H.read_metrics(tmp_path / 'old.json') == {'iou': 0.48, 'commands': {'iou': 'x'}}
    assert H.read_metrics(tmp_path / 'none.json', {}) == {}


def test_git_commit_marks_a_dirty_tree(tmp_path):
    g = lambda *a: subprocess.run(['git', '-c', 'user.name=t', '-c', 'user.email=t@t', *a], cwd=tmp_path, check=True, capture_output=True)
    g('init', '-q'); (tmp_path / 'f').write_text('1'); g('add', 'f'); g('commit', '-qm', 'c')
    head = subprocess.run(['git', 'rev-parse', '--short=12', 'HEAD'], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    assert H.git_commit(tmp_path) == head
    (tmp_path / 'f').write_text('2')
    assert H.git_commit(tmp_path) == head + '-dirty'


def test_weights_fingerprint_follows_the_weights(tmp_path):
    torch.manual_seed(0); m = torch.nn.Linear(3, 2); m2 = torch.nn.Linear(3, 2); m2.load_state_dict(m.state_dict())
    f = H.weights_fingerprint(m)
    assert len(f) == 16 and f == H.weights_fingerprint(m2)  # same weights, another module: same fingerprint
    with torch.no_grad(): m2.weight[0, 0] += 1e-3
    assert H.weights_fingerprint(m2) != f
    assert H.weights_fingerprint(m.half()) != H.weights_fingerprint(m.float().double())  # the dtype counts
    (tmp_path / 'w').mkdir(); (tmp_path / 'w' / 'a.bin').write_bytes(b'123')
    fp = H.weights_fingerprint(tmp_path / 'w')
    (tmp_path / 'w' / 'a.bin').write_bytes(b'124')
    assert H.weights_fingerprint(tmp_path / 'w') != fp


def test_weights_fingerprint_of_a_bundle_hashes_its_models():
    class B: pass
    b = B(); b.vae, b.unet, b.text_encoder = torch.nn.Linear(2, 2), torch.nn.Linear(2, 3), torch.nn.Linear(3, 2)
    assert H.weights_fingerprint(b) == H.weights_fingerprint(b.vae, b.unet, b.text_encoder)
    with pytest.raises(TypeError, match='cannot hash a int'): H.weights_fingerprint(3)
    with pytest.raises(TypeError, match='fingerprint=None'): H.weights_fingerprint()
    with pytest.raises(FileNotFoundError, match='does not exist'): H.weights_fingerprint('/nonexistent/weights')


def test_update_parts_keeps_other_parts_and_each_parts_command(tmp_path):
    p = tmp_path / 'parts.json'
    p.write_text(json.dumps({'iou': 0.4, 'commands': {'iou': 'old iou command'}}))  # a file from before the schema
    H.update_parts(p, {'speed': 1.3}, 'new speed command', fingerprint='ff00')
    d = json.loads(p.read_text())
    assert d['metrics'] == {'iou': 0.4, 'speed': 1.3} and d['command'] == 'new speed command' and d['fingerprint'] == 'ff00'
    assert d['parts']['iou'] == {'command': 'old iou command'} and d['parts']['speed']['fingerprint'] == 'ff00'
    H.update_parts(p, {'iou': 0.5}, 'iou again', fingerprint=None)
    d = json.loads(p.read_text())
    assert d['metrics'] == {'iou': 0.5, 'speed': 1.3} and d['parts']['iou']['command'] == 'iou again' and d['parts']['speed']['command'] == 'new speed command'
    with pytest.raises(TypeError, match='missing fingerprint'): H.update_parts(p, {'x': 1}, 'c')


def test_upsert_run_replaces_the_run_with_the_same_key(tmp_path):
    p = tmp_path / 'runs.json'
    H.upsert_run(p, dict(key='a', v=1), fingerprint=None, command='c1'); H.upsert_run(p, dict(key='b', v=2), fingerprint=None, command='c2')
    H.upsert_run(p, dict(key='a', v=3), fingerprint='ab', command='c3')
    d = json.loads(p.read_text())
    assert d['metrics'] == [dict(key='a', v=3), dict(key='b', v=2)] and d['command'] == 'c3' and d['fingerprint'] == 'ab'


def test_toy_fingerprint_hashes_the_zoo_folders(tmp_path):
    for n in ('sd', 'ip2p', 'clip'): (tmp_path / n).mkdir(); (tmp_path / n / 'w.bin').write_bytes(n.encode())
    assert H.toy_weights('ip2p', 'clip', 'sd', root=tmp_path) == [tmp_path / 'sd', tmp_path / 'ip2p', tmp_path / 'clip']  # ip2p brings sd, once
    assert H.toy_weights('elements', root=tmp_path) == []
    f = H.toy_fingerprint('ip2p', root=tmp_path)
    assert f == H.weights_fingerprint(tmp_path / 'sd', tmp_path / 'ip2p') and f != H.toy_fingerprint('sd', root=tmp_path)
    (tmp_path / 'sd' / 'w.bin').write_bytes(b'other')
    assert H.toy_fingerprint('ip2p', root=tmp_path) != f  # the shared VAE / text encoder count


def _wrap_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('wrap_result', Path(__file__).resolve().parents[1] / 'scripts' / 'wrap_result.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m


def test_wrap_result_puts_an_old_file_in_the_layout_with_its_numbers(tmp_path):
    W = _wrap_module()
    old = {'iou': 0.48, 'speed': {'s': 1.5}, 'commands': {'iou': 'python d.py --parts iou'}}
    p = tmp_path / 'old.json'; p.write_text(json.dumps(old))
    assert W.wrap(p) is True
    d = json.loads(p.read_text())
    assert {'schema', 'command', 'commit', 'fingerprint', 'metrics'} <= set(d) and d['schema'] == H.SCHEMA and d['fingerprint'] is None
    assert H.read_metrics(p) == {'iou': 0.48, 'speed': {'s': 1.5}}  # the numbers, unchanged; the per-part commands moved to `parts`
    assert d['parts'] == {'iou': {'command': 'python d.py --parts iou'}} and d['command'] == 'several: see parts'
    assert W.wrap(p) is False and json.loads(p.read_text()) == d  # a file in the layout is left as it is
    H.update_parts(p, {'speed': {'s': 1.2}}, command='python d.py --parts speed', fingerprint=None)  # and the harness updates it as its own
    assert H.read_metrics(p) == {'iou': 0.48, 'speed': {'s': 1.2}} and set(json.loads(p.read_text())['parts']) == {'iou', 'speed'}


def test_wrap_result_keeps_a_recorded_command_and_commit(tmp_path):
    W = _wrap_module()
    p = tmp_path / 'r.json'; p.write_text(json.dumps({'command': 'python x.py', 'commit': 'abc123', 'n': 3}))
    W.wrap(p); d = json.loads(p.read_text())
    assert (d['command'], d['commit'], d['metrics']) == ('python x.py', 'abc123', {'command': 'python x.py', 'commit': 'abc123', 'n': 3})
    q = tmp_path / 'l.json'; q.write_text(json.dumps([{'key': 'a'}]))  # a list of runs, no command recorded
    W.wrap(q); d = json.loads(q.read_text())
    assert d['command'] == W.NOT_RECORDED and d['metrics'] == [{'key': 'a'}] and d['commit'] == 'unknown'  # outside git: no commit to name
