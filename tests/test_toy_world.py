"Tests of imiebench.toy.world: the shapes world and its edits (the oracle: test_toy_oracle.py)."
import json, subprocess, sys
import numpy as np
import pytest

from imiebench.toy import world as S


def test_fresh_import():
    "The module imports in a fresh process (no notebook globals), renders and captions a scene."
    code = ("import numpy as np; from imiebench.toy.world import random_scene, render, caption; "
            "s = random_scene(np.random.default_rng(0)); assert render(s).shape == (64, 64, 3) and caption(s); print('ok')")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 'ok'


def test_api_names():
    for name in ('COLORS', 'SHAPES', 'SIZES', 'POSITIONS', 'TEXTURES', 'VOCAB', 'EDIT_KINDS', 'Obj', 'Scene',
                 'random_scene', 'render', 'object_mask', 'scene_masks', 'caption', 'words', 'Edit', 'random_edit',
                 'edit_sequence'):
        assert hasattr(S, name), name
    for name in ('nearest_color', 'ObjVerdict', 'OracleReport', 'oracle', 'edit_success', 'preserved', 'retained', 'damage'):
        assert not hasattr(S, name), f"{name} belongs to imiebench.toy.oracle"
    assert len(S.COLORS) >= 8 and len(S.SHAPES) >= 4 and len(S.POSITIONS) == 9
    assert S.SIZES == ('small', 'large') and S.TEXTURES == ('solid', 'stripes', 'checks', 'noise')


def test_determinism():
    a = [S.random_scene(np.random.default_rng(11)) for _ in range(3)]
    b = [S.random_scene(np.random.default_rng(11)) for _ in range(3)]
    assert a == b
    for s in a:
        assert (S.render(s) == S.render(S.Scene.from_dict(json.loads(json.dumps(s.to_dict()))))).all()
    e1 = S.edit_sequence(a[0], np.random.default_rng(3), n=5)
    e2 = S.edit_sequence(a[0], np.random.default_rng(3), n=5)
    assert e1 == e2 and all((x.mask == y.mask).all() for x, y in zip(e1, e2))
    # textured scenes: noise depends on the seed, and only on it
    s = S.Scene([S.Obj('circle', 'red', 'small', 'top')], 'white', 'noise', seed=1)
    assert (S.render(s) == S.render(s.replace())).all()
    assert (S.render(s) != S.render(s.replace(seed=2))).any()


def test_render_and_masks():
    s = S.random_scene(np.random.default_rng(5), n_objects=3)
    for size in (32, 64, 96):
        img = S.render(s, size)
        assert img.shape == (size, size, 3) and img.dtype == np.uint8
        m = S.scene_masks(s, size)
        assert m.shape == (3, size, size) and m.dtype == np.float32 and 0 <= m.min() and m.max() <= 1
        assert ((m > 0).sum(0) <= 1).all()  # never overlapping


def test_captions_in_vocab():
    vocab = set(S.VOCAB)
    rng = np.random.default_rng(0)
    for _ in range(50):
        s = S.random_scene(rng)
        for e in S.edit_sequence(s, rng, n=3):
            for t in (e.instruction, e.ref_caption, e.query_caption):
                assert set(S.words(t)) <= vocab, t
            assert e.ref_caption == S.caption(e.source) and e.query_caption == S.caption(e.target)
    s = S.Scene([S.Obj('circle', 'red', 'small', 'top left'), S.Obj('square', 'blue', 'large', 'center')], 'green', 'stripes')
    assert S.caption(s) == ('a small red circle at the top left and a large blue square at the center '
                            'on a green striped background')


def test_change_mask_covers_diff():
    rng = np.random.default_rng(1)
    for _ in range(60):
        e = S.random_edit(S.random_scene(rng), rng)
        diff = (e.source_image != e.target_image).any(-1)
        assert diff.any() and (e.mask[diff] == 1).all(), e.instruction


def test_bad_size():
    s = S.random_scene(np.random.default_rng(0))
    with pytest.raises(ValueError, match='multiple of 8'): S.render(s, 60)
    with pytest.raises(ValueError, match='>= 32'): S.render(s, 24)


def test_bad_names():
    with pytest.raises(ValueError, match="unknown color 'pink'"): S.Obj('circle', 'pink', 'small', 'top')
    with pytest.raises(ValueError, match="unknown shape 'hexagon'"): S.Obj('hexagon', 'red', 'small', 'top')
    with pytest.raises(ValueError, match="unknown position 'middle'"): S.Obj('circle', 'red', 'small', 'middle')
    with pytest.raises(ValueError, match="unknown texture 'dots'"): S.Scene([], 'red', 'dots')
    with pytest.raises(ValueError, match="unknown edit kind 'explode'"):
        S.random_edit(S.random_scene(np.random.default_rng(0)), np.random.default_rng(0), kinds=['explode'])


def test_bad_scene():
    with pytest.raises(ValueError, match='share a cell'):
        S.Scene([S.Obj('circle', 'red', 'small', 'top'), S.Obj('square', 'blue', 'small', 'top')], 'white')
    with pytest.raises(ValueError, match='background color'):
        S.Scene([S.Obj('circle', 'red', 'small', 'top')], 'red')
