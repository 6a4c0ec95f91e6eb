# REED long runs in parallel on one GPU (each `reed_bench.py --parts long`, one process per line of $GRID), then pack
# benchmarks/results/reed_runs.json (each run adds its entry) and the decoders of the best runs into $OUT. Usage (device): B=400 GRID=grid.txt bash benchmarks/device/reed_grid.sh
# Each line of $GRID: the arguments after `--parts long --variant anchor --budget $B`, e.g. `--set fsl_target=initial,ema_decay=0.99 --textures 512`.
B=${B:-400}; export OUT=${OUT:-/tmp/out}; mkdir -p $OUT/logs; i=0
while read -r line; do
  [ -z "$line" ] && continue; i=$((i+1))
  OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1 timeout ${LIMIT:-540} python3 benchmarks/reed_bench.py --parts long --variant anchor --budget $B $line > $OUT/logs/run$i.log 2>&1 &
done < $GRID
wait
grep -h SUMMARY $OUT/logs/*.log | tee $OUT/summary.txt
tail -n 3 $OUT/logs/*.log > $OUT/tails.txt
tar czf $OUT/results.tgz benchmarks/results/reed_runs.json $OUT/logs 2>/dev/null; rm -rf $OUT/logs
python3 - <<'PY'
import json, os, shutil
rs = []
for r in json.load(open('benchmarks/results/reed_runs.json'))['metrics']:  # the result layout (benchmarks/harness.py)
    tag = r['run']
    if r['device'] != 'cuda' or not os.path.exists(f'runs/{tag}/vae'): continue  # a committed entry: its weights are not here
    d = r['summary']['change_at_1_gain_at_25']
    ok = min(d['scenes'][0], d['photos'][0]) >= -0.6
    rs.append((ok, min(d['scenes'][1], d['photos'][1]), tag))
for ok, g, tag in sorted(rs, reverse=True)[:int(os.environ.get('KEEP', 4))]:
    shutil.copy(f'runs/{tag}/vae/diffusion_pytorch_model.safetensors', f"{os.environ['OUT']}/{tag}.safetensors"); print('kept', tag, ok, g)
PY
