#!/usr/bin/env bash
# Regenerates the AOF fixtures with a real redis-server 7.0 (Debian's redis-server):
#   redis-7.0.15-preamble/   a multi-part AOF dir whose base is an RDB preamble
#   redis-7.0.15-commands/   the same with aof-use-rdb-preamble no (base of commands)
# Each dir holds appendonlydir/ (manifest, base, incr files) and digest.txt, the
# DEBUG DIGEST of the dataset the AOF rebuilds. Writes happen before and after a
# BGREWRITEAOF, in several dbs, with TTLs, MULTI/EXEC and commands Redis rewrites
# when propagating (EXPIRE, INCRBYFLOAT, SPOP, SET EX). No sorted sets yet: kv's
# zsets are not on main; add them here when they land.
# Usage: testdata/aof/make-fixtures.sh   (needs redis-server and redis-cli on PATH)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for variant in preamble commands; do
	dir=$(mktemp -d)
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	pre=yes
	[ "$variant" = commands ] && pre=no
	redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly yes --appendfsync always \
		--aof-use-rdb-preamble "$pre" --enable-debug-command yes --daemonize yes \
		--pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
	for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
	r() { redis-cli -p "$port" "$@" >/dev/null; }
	r -n 0 SET str:a hello
	r -n 0 SET str:int 12345
	r -n 0 RPUSH list:a a b c 1 2 3 $(seq 1 200)
	r -n 0 SADD set:int 1 2 3 -5 70000
	r -n 0 SADD set:str a b c
	r -n 0 HSET hash:a f1 v1 f2 2
	r -n 0 SET ttl:a v EX 100000000
	printf 'bin\x00val' | redis-cli -p "$port" -x -n 3 SET "bin:key" >/dev/null
	r -n 3 HSET db3:hash x y
	r BGREWRITEAOF
	for _ in $(seq 100); do
		redis-cli -p "$port" info persistence | grep -q 'aof_rewrite_in_progress:0' && break
		sleep 0.1
	done
	sleep 0.2
	r -n 0 INCRBYFLOAT float:a 1.5
	r -n 0 EXPIRE str:a 100000000
	r -n 0 SADD set:pop a b c d
	r -n 0 SPOP set:pop
	r -n 0 LPUSH list:a head
	r -n 5 SET db5:k v
	r -n 5 DEL str:none
	printf 'MULTI\nSET tx:a 1\nINCR tx:a\nSELECT 7\nHSET db7:h a b\nEXEC\n' | redis-cli -p "$port" >/dev/null
	out="$here/redis-7.0.15-$variant"
	rm -rf "$out"
	mkdir -p "$out"
	redis-cli -p "$port" DEBUG DIGEST >"$out/digest.txt"
	redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
	sleep 0.3
	cp -r "$dir/appendonlydir" "$out/"
	rm -rf "$dir"
done
