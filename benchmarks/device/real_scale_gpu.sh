# Real-scale GPU timing, one run of at most 10 minutes: seconds/edit and peak memory in float16, ours vs diffusers' pipelines,
# SD 1.5 DiffEdit and IP2P/EMILIE at 512², SDXL-InstructPix2Pix at 1024² (random full-size weights, nothing downloaded).
# Needs torch, transformers and diffusers==0.42.1 on the GPU machine. Where that machine has no package index, download
# the diffusers wheel beside the repo first (python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12
# -d .whl diffusers==0.42.1; .whl/ is git-ignored) and copy it along; this script installs it when diffusers is missing.
# Run: OUT=<folder> bash benchmarks/device/real_scale_gpu.sh  (stops itself after LIMIT=560 s). Results: $OUT/real_scale_gpu.json
set -u; OUT=${OUT:-/tmp/out}; mkdir -p $OUT
python3 -c 'import diffusers' 2>/dev/null || python3 -m pip install -q --no-deps .whl/*.whl
nvidia-smi --query-gpu=name,memory.total --format=csv | tee $OUT/gpu.txt
PYTHONUNBUFFERED=1 timeout ${LIMIT:-560} python3 benchmarks/device/real_scale_gpu.py --out $OUT/real_scale_gpu.json "$@" 2>&1 | tee $OUT/real_scale_gpu.log
