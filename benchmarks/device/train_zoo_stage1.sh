Z='from imiebench.cli import main; main()'; W=${W:-/tmp/w}; NP=${NP:-60000}; X=${X:-}
python3 -c "$Z" train-zoo --stages pool --work $W --workers 16 --n-pool $NP $X 2>&1 | tail -1
python3 -c "$Z" train-zoo --stages clip --work $W --n-pool $NP --time-budget ${TC:-200} $X > $OUT/clip.log 2>&1 & P=$!
python3 -c "$Z" train-zoo --stages vae --work $W --n-pool $NP --time-budget ${TV:-330} $X > $OUT/vae.log 2>&1; wait $P
tail -n 3 $OUT/clip.log $OUT/vae.log
cd $W && tar cf $OUT/clip.tar clip && tar cf $OUT/vae.tar vae && cp manifest_*.json $OUT/ && ls -la $OUT
