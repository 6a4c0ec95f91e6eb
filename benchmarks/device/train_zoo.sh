# The toy zoo on one GPU: pool → (CLIP ∥ VAE) → caption UNet → instruction UNet (it starts from the caption UNet;
# with X='--ip2p-init scratch' the two UNets are independent, as when the shipped zoo was trained).
# Each stage has a time budget (seconds); the steps actually run are recorded in manifest_*.json.
# Usage: W=/tmp/w bash benchmarks/device/train_zoo.sh      (then: imiebench train-zoo --stages assemble --work $W)
Z='from imiebench.cli import main; main()'; W=${W:-/tmp/w}; NP=${NP:-60000}; X=${X:-}
mkdir -p $W
python3 -c "$Z" train-zoo --stages pool --work $W --workers ${WORKERS:-16} --n-pool $NP $X > $W/pool.log 2>&1
python3 -c "$Z" train-zoo --stages clip --work $W --n-pool $NP --time-budget ${T_CLIP:-150} $X > $W/clip.log 2>&1 & P=$!
python3 -c "$Z" train-zoo --stages vae --work $W --n-pool $NP --time-budget ${T_VAE:-230} $X > $W/vae.log 2>&1; wait $P
touch $W/stage1.done
python3 -c "$Z" train-zoo --stages sd --work $W --n-pool $NP --time-budget ${T_UNET:-480} $X > $W/sd.log 2>&1
python3 -c "$Z" train-zoo --stages ip2p --work $W --n-pool $NP --time-budget ${T_UNET:-480} $X > $W/ip2p.log 2>&1
python3 -c "
from diffusers import UNet2DConditionModel
for k in ('sd', 'ip2p'): UNet2DConditionModel.from_pretrained('$W/unet_'+k).half().save_pretrained('$W/h/unet_'+k)" > $W/half.log 2>&1
touch $W/all.done
