"The shapes world and the toy zoo. What the toy models know: `VOCAB` / `vocabulary()` (other words warn) and `IMAGE_CONVENTIONS` (64×64 RGB uint8 scenes); see nbs/02_toy_world.ipynb."
from .world import VOCAB, IMAGE_SIZE, IMAGE_CONVENTIONS, vocabulary  # noqa: F401  (hand-written: nbdev only creates this file)
