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
    ('missing image file',           lambda: to_tensor('cat.png'), FileNotFoundError, r'cat\.png'),
    ('not an image',                 lambda: to_tensor(3), TypeError, r'PIL image'),
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


# Every suggested fix works: follow the message literally.
import re, warnings
from imiebench.core import resize_image, fit_size
from imiebench.models import check_words

def _fix(err):
    m = re.search(r'`imiebench\.core\.(resize_image\(image(?:, multiple=\d+)?\))`', str(err)); assert m, str(err)
    return m.group(1)

def test_odd_size_fix_works_for_diffedit_and_session():
    from imiebench.diffedit import diffedit
    from imiebench.emilie import EditSession
    image = np.random.default_rng(0).integers(0, 256, (61, 47, 3), dtype=np.uint8)
    b = tiny('sd')
    with pytest.raises(ValueError) as e: diffedit(b, image, 'red circle', r=0.5, num_inference_steps=4, n=2, progress=False)
    fixed = eval(_fix(e.value), {'resize_image': resize_image, 'image': image})
    res = diffedit(b, fixed, 'red circle', r=0.5, num_inference_steps=4, n=2, progress=False)
    assert tuple(res.image.shape[-2:]) == fit_size((61, 47), b.vae_factor)
    with pytest.raises(ValueError) as e: EditSession(tiny('ip2p'), image)
    EditSession(tiny('ip2p'), eval(_fix(e.value), {'resize_image': resize_image, 'image': image}))

def test_size_8_fix_and_list_fix():
    odd = np.zeros((61, 47, 3), np.uint8)
    with pytest.raises(ValueError, match=r'resize_image\(image\)` gives 64×48') as e: to_tensor(odd)
    assert to_tensor(eval(_fix(e.value), {'resize_image': resize_image, 'image': odd})).shape == (1, 3, 64, 48)
    images = [np.zeros((16, 16, 3), np.uint8), np.zeros((24, 16, 3), np.uint8)]
    with pytest.raises(ValueError, match=r'\[resize_image\(im, \(H, W\)\) for im in images\]'): to_tensor(images)
    assert to_tensor([resize_image(im, (16, 16)) for im in images]).shape == (2, 3, 16, 16)

def test_dtype_mode_and_range_fixes():
    a = np.full((16, 16, 3), 0.5, np.float32)
    with pytest.raises(TypeError, match=r'\(a \* 255\)\.round\(\)\.astype\(np\.uint8\)'): to_tensor(a)
    assert to_tensor((a * 255).round().astype(np.uint8)).shape == (1, 3, 16, 16)
    img = PIL.Image.new('RGBA', (16, 16))
    with pytest.raises(ValueError, match=r"img\.convert\('RGB'\)"): to_tensor(img)
    to_tensor(img.convert('RGB'))
    x = torch.full((3, 8, 8), -0.5)
    with pytest.warns(FutureWarning, match=r'x / 2 \+ 0\.5'): to_tensor(x)
    with warnings.catch_warnings():
        warnings.simplefilter('error'); to_tensor(x / 2 + 0.5); to_tensor(x, value_range=(-1, 1))

def test_image_path_is_read(tmp_path):
    from imiebench.diffedit import diffedit
    PIL.Image.fromarray(np.full((16, 16, 3), 200, np.uint8)).save(tmp_path / 'im.png')
    assert diffedit(tiny('sd'), tmp_path / 'im.png', 'red circle', r=0.5, num_inference_steps=4, n=2, progress=False).image.shape[-2:] == (16, 16)
    with pytest.raises(FileNotFoundError, match='nope.png'): to_tensor(str(tmp_path / 'nope.png'))
    (tmp_path / 'a.txt').write_text('hello')
    with pytest.raises(ValueError, match='not an image'): to_tensor(tmp_path / 'a.txt')

def test_unknown_words_warn_raise_ignore():
    from imiebench.toy import VOCAB, vocabulary
    from imiebench.models import word_tokenizer
    tok = word_tokenizer(vocabulary())
    with pytest.warns(UserWarning, match=r"'cat', 'dog'.*imiebench\.toy\.VOCAB"): check_words(tok, 'turn the cat into a dog')
    with pytest.raises(ValueError, match="'cat'"): check_words(tok, 'turn the cat into a circle', 'raise')
    with warnings.catch_warnings(): warnings.simplefilter('error'); check_words(tok, 'turn the cat into a dog', 'ignore')
    b = tiny('sd'); b.unknown_words = 'warn'
    with pytest.warns(UserWarning, match="'dog'"): b_embed = __import__('imiebench.models', fromlist=['embed']).embed(b, 'a red dog')
    assert b_embed.shape[0] == 1 and 'turn' in VOCAB
