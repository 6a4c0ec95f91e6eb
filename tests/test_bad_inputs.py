"Bad input gets a clear error: the type is right and the message names the problem."
import numpy as np, PIL.Image, torch, pytest
from imiebench.core import to_tensor, to_mask, check_prompt
from imiebench.models import tiny, load_sd, load_ip2p, WeightsNotFoundError

CASES = [
    ('image size not multiple of 8', lambda: to_tensor(np.zeros((30, 32, 3), np.uint8)), ValueError, r'30×32 is not a multiple of 8'),
    ('grayscale PIL image',          lambda: to_tensor(PIL.Image.new('L', (16, 16))), ValueError, r"mode 'L'"),
    ('RGBA PIL image',               lambda: to_tensor(PIL.Image.new('RGBA', (16, 16))), ValueError, r"mode 'RGBA'"),
    ('float numpy image',            lambda: to_tensor(np.zeros((16, 16, 3), np.float32)), TypeError, r'uint8'),
    ('4-channel array',              lambda: to_tensor(np.zeros((16, 16, 4), np.uint8)), ValueError, r'H×W×3'),
    ('NaN in image tensor',          lambda: to_tensor(torch.full((1, 3, 8, 8), float('nan'))), ValueError, r'NaN'),
    ('image tensor out of range',    lambda: to_tensor(torch.full((3, 8, 8), 255.)), ValueError, r'\[-1, 1\]'),
    ('integer image tensor',         lambda: to_tensor(torch.zeros((3, 8, 8), dtype=torch.int64)), TypeError, r'float tensor'),
    ('not an image',                 lambda: to_tensor('cat.png'), TypeError, r'PIL image'),
    ('empty image list',             lambda: to_tensor([]), ValueError, r'empty list'),
    ('mask with 2 channels',         lambda: to_mask(np.ones((2, 8, 8), np.float32)), ValueError, r'shape \(2, 8, 8\)'),
    ('mask values out of range',     lambda: to_mask(np.full((8, 8), 2.0)), ValueError, r'\[0, 1\]'),
    ('NaN in mask',                  lambda: to_mask(np.full((8, 8), np.nan)), ValueError, r'NaN'),
    ('mask size mismatch',           lambda: to_mask(np.ones((8, 8), bool), size=(16, 16)), ValueError, r'does not match'),
    ('RGB PIL mask',                 lambda: to_mask(PIL.Image.new('RGB', (8, 8))), ValueError, r"mode 'RGB'"),
    ('empty prompt',                 lambda: check_prompt('   ', 'query caption'), ValueError, r'query caption is empty'),
    ('prompt not a string',          lambda: check_prompt(None), TypeError, r'str'),
    ('missing local folder',         lambda: load_sd('/no/such/folder'), WeightsNotFoundError, r"/no/such/folder"),
    ('hub id offline',               lambda: load_ip2p('timbrooks/instruct-pix2pix', local_files_only=True), WeightsNotFoundError, r'timbrooks/instruct-pix2pix.*\n.*local-dir'),
    ('unknown tiny kind',            lambda: tiny('sd3'), ValueError, r"'sd3'"),
    ('encode wrong size',            lambda: tiny('sd').encode(np.zeros((15, 16, 3), np.uint8)), ValueError, r'multiple of 2'),
]

@pytest.mark.parametrize('name,fn,exc,match', CASES, ids=[c[0] for c in CASES])
def test_bad_input(name, fn, exc, match):
    with pytest.raises(exc, match=match): fn()

def test_ip2p_loader_rejects_sd_folder(tmp_path):
    tiny('sd').save_pretrained(tmp_path)
    with pytest.raises((ValueError, WeightsNotFoundError), match=r'8'):
        load_ip2p(tmp_path, device='cpu')

def test_bad_input_loses_nothing():
    "A failed conversion leaves the caller's data untouched."
    a = np.full((15, 16, 3), 7, np.uint8); a0 = a.copy()
    with pytest.raises(ValueError): to_tensor(a)
    assert np.array_equal(a, a0)
