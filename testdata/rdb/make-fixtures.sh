#!/usr/bin/env bash
# Regenerates the RDB fixtures with a real redis-server 7.0 (Debian's redis-server):
#   redis-7.0.15-all-types.rdb  every type and encoding, several dbs, TTLs, binary keys
#   redis-7.0.15-all-types.txt  its content, one canonical line per key (see canon below)
# Usage: testdata/rdb/make-fixtures.sh   (needs redis-server and redis-cli on PATH)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no --daemonize yes \
	--pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
r() { redis-cli -p "$port" "$@" >/dev/null; }

r -n 0 SET str:embstr hello
r -n 0 SET str:int 12345
r -n 0 SET str:negint -70000
r -n 0 SET str:big "$(printf 'abcdefghij%.0s' $(seq 100))"
r -n 0 SET str:raw "$(printf 'x%.0s' $(seq 60))"
printf 'bin\x00key\xff' | redis-cli -p "$port" -x -n 0 SET str:binary >/dev/null
printf 'value' | redis-cli -p "$port" -x -n 0 SET "$(printf 'key\twith\ttabs')" >/dev/null
r -n 0 SET str:ttl temporary PXAT 4102444800000
r -n 0 RPUSH list:small a b c 1 2 3 -4096 70000 5000000000
r -n 0 RPUSH list:big $(seq 1 2000)
r -n 0 RPUSH list:plain "$(printf 'P%.0s' $(seq 9000))" tail
r -n 0 SADD set:intset 1 2 3 -5 70000 9223372036854775807
r -n 0 SADD set:ht a b c 1
r -n 0 SADD set:bigint $(seq 1 600)
r -n 0 HSET hash:lp f1 v1 f2 2 f3 -3 f4 "$(printf 'y%.0s' $(seq 60))"
r -n 0 HSET hash:ht f1 v1 long "$(printf 'z%.0s' $(seq 100))"
r -n 0 HSET hash:many $(for i in $(seq 1 200); do echo "field$i value$i"; done)
r -n 0 ZADD zset:lp 1 a 2.5 b -3 c 0 d inf e -inf f 1e100 g
r -n 0 ZADD zset:sl $(for i in $(seq 1 200); do echo "$i.5 m$i"; done)
r -n 0 ZADD zset:longmember 1 "$(printf 'w%.0s' $(seq 80))"
r -n 0 EXPIRE list:small 100000000
r -n 2 SET db2:key in-db-2
r -n 2 HSET db2:hash a 1
r -n 15 SADD db15:set x
r FUNCTION LOAD "#!lua name=fixturelib
redis.register_function('fixture_echo', function(keys, args) return args[1] end)"
redis-cli -p "$port" SAVE >/dev/null
cp "$dir/dump.rdb" "$here/redis-7.0.15-all-types.rdb"

# canon: db TAB hex(key) TAB type TAB encoding TAB has-ttl TAB value, value rendered as
# redis-cli --no-raw prints it, elements of sets and hashes sorted so order is stable.
for db in 0 2 15; do
	redis-cli -p "$port" -n "$db" --scan | LC_ALL=C sort | while IFS= read -r key; do
		t=$(redis-cli -p "$port" -n "$db" TYPE "$key")
		enc=$(redis-cli -p "$port" -n "$db" OBJECT ENCODING "$key")
		ttl=$(redis-cli -p "$port" -n "$db" PTTL "$key"); [ "$ttl" = -1 ] && ttl=no || ttl=yes
		case $t in
		string) v=$(redis-cli -p "$port" -n "$db" --no-raw GET "$key") ;;
		list) v=$(redis-cli -p "$port" -n "$db" --no-raw LRANGE "$key" 0 -1 | sed 's/^ *[0-9]*) //' | tr '\n' ' ') ;;
		set) v=$(redis-cli -p "$port" -n "$db" --no-raw SMEMBERS "$key" | sed 's/^ *[0-9]*) //' | LC_ALL=C sort | tr '\n' ' ') ;;
		hash) v=$(redis-cli -p "$port" -n "$db" --no-raw HGETALL "$key" | sed 's/^ *[0-9]*) //' | paste -d= - - | LC_ALL=C sort | tr '\n' ' ') ;;
		zset) v=$(redis-cli -p "$port" -n "$db" --no-raw ZRANGE "$key" 0 -1 WITHSCORES | sed 's/^ *[0-9]*) //' | tr '\n' ' ') ;;
		esac
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$db" "$(printf '%s' "$key" | od -An -tx1 | tr -d ' \n')" "$t" "$enc" "$ttl" "$v"
	done
done > "$here/redis-7.0.15-all-types.txt"
echo "wrote $here/redis-7.0.15-all-types.rdb and .txt"
