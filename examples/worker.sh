#!/bin/sh
# A stand-in for `php artisan queue:work`: processes one "job" per second and,
# on SIGTERM, finishes the current job before exiting 0.
n=$1
stop=0
trap 'stop=1' TERM
job=0
echo "worker $n started (pid $$)"
while [ "$stop" = 0 ]; do
	job=$((job + 1))
	sleep 1
	echo "worker $n: processed job $job"
done
echo "worker $n: stopping after job $job"
