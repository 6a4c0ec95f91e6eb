"Tests of imiebench.toy.oracle: reading shapes-world images back, edit success, preservation, damage."
import subprocess, sys
import numpy as np
import pytest

from imiebench.toy import world as W, oracle as O


def test_fresh_import():
    "The module imports in a fresh process (no notebook globals) and reads back a rendered scene."
    code = ("import numpy as np; from imiebench.toy.world import random_scene, render; from imiebench.toy.oracle import oracle; "
            "s = random_scene(np.random.default_rng(0)); assert oracle(render(s), s).all_ok; print('ok')")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 'ok'


def test_api_names():
    for name in ('nearest_color', 'ObjVerdict', 'OracleReport', 'oracle', 'edit_success', 'preserved', 'retained',
                 'damage', 'DAMAGE_KINDS'):
        assert hasattr(O, name), name


def test_oracle_clean():
    rng = np.random.default_rng(123)
    n_obj = ok_obj = ok_bg = ok_abs = 0
    scenes = [W.random_scene(rng) for _ in range(300)]
    for s in scenes:
        r = O.oracle(W.render(s), s)
        n_obj += len(r.objects); ok_obj += sum(v.ok for v in r.objects)
        ok_bg += r.bg_ok; ok_abs += r.absent_ok
    assert ok_obj / n_obj >= .99 and ok_bg / len(scenes) >= .99 and ok_abs / len(scenes) >= .99


def test_oracle_mild_damage():
    rng = np.random.default_rng(7)
    scenes = [W.random_scene(rng) for _ in range(60)]
    for kind, level in (('blur', 1), ('noise', 10)):
        vs = [v for s in scenes for v in O.oracle(O.damage(W.render(s), kind, level, rng), s).objects]
        assert np.mean([v.ok for v in vs]) >= .9, kind


def test_edit_success_rates():
    rng = np.random.default_rng(99)
    edits = [e for _ in range(40) for e in W.edit_sequence(W.random_scene(rng), rng, n=4)]
    assert {e.kind for e in edits} == set(W.EDIT_KINDS)
    assert np.mean([O.edit_success(e.target_image, e) for e in edits]) >= .95
    assert np.mean([O.edit_success(e.source_image, e) for e in edits]) <= .05
    assert np.mean([O.preserved(e.target_image, e) for e in edits]) >= .95


def test_bad_oracle_input():
    s = W.random_scene(np.random.default_rng(0)); img = W.render(s)
    with pytest.raises(TypeError, match='uint8'): O.oracle(img.astype(np.float32), s)
    with pytest.raises(TypeError, match='numpy array'): O.oracle(img.tolist(), s)
    with pytest.raises(ValueError, match='shape'): O.oracle(img[:, :48], s)
    with pytest.raises(ValueError, match='multiple of 8'): O.oracle(np.zeros((60, 60, 3), np.uint8), s)
    with pytest.raises(TypeError, match='Scene'): O.oracle(img, s.to_dict())
    with pytest.raises(ValueError, match="unknown damage kind 'smear'"): O.damage(img, 'smear', 1)
