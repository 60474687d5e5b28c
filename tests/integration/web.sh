#!/usr/bin/env bash
# TorowithFileSystem on posix, through libslirp on 127.0.0.1: bodies
# byte-identical to the files, headers, 304/206/416/301/404/405/501, HEAD,
# keep-alive and pipelining, hostile requests (traversal encodings,
# smuggling shapes, limits) answered while a well-behaved client is still
# served, slow clients (header and idle timeouts), the connection bound
# (503); then a stop by SIGINT: the access log holds exactly one line per
# request and e2fsck finds the image clean. Last, a kill -9 under load: the
# log ends in a whole line after e2fsck -fy. A strict client (undici, from
# npm: tests/strict-http) parses every response of a pipelined keep-alive
# connection.
# WEB_BIN=build/posix-san/bin/TorowithFileSystem runs it under ASan+UBSan.
# WEB_CPUS: the CPUs it runs on (2).
source "$(dirname "$0")/../lib.sh"
cd "$TOP"
scratch
BIN=${WEB_BIN:-build/posix/bin/TorowithFileSystem}
RAW="python3 tests/integration/http_raw.py"
IMG=$SCRATCH/web.img
TREE=build/ToroFiles/web
SERVER=
trap '[ -n "$SERVER" ] && kill -9 $SERVER 2>/dev/null; rm -rf "$SCRATCH"' EXIT

if ! make -s image IMAGE="$IMG" >"$SCRATCH/make.out" 2>&1; then
	fail "make image"
	cat "$SCRATCH/make.out"
	finish
	exit
fi

# start_server ARGS...: the service on a free port; PORT and URL set.
start_server() {
	PORT=$($RAW 0 free)
	URL=http://127.0.0.1:$PORT
	$BIN --cpus ${WEB_CPUS:-2} --disk "$IMG" --net slirp,hostfwd=tcp:127.0.0.1:$PORT-:80 "$@" \
		>"$SCRATCH/server.out" 2>&1 &
	SERVER=$!
	for _ in $(seq 100); do
		grep -q "serving /web" "$SCRATCH/server.out" && return 0
		sleep 0.1
	done
	cat "$SCRATCH/server.out"
	return 1
}

# stop_server [SIGNAL]: its status in RC.
stop_server() {
	kill -${1:-INT} $SERVER
	timeout 60 tail --pid=$SERVER -f /dev/null
	wait $SERVER 2>/dev/null
	RC=$?
	SERVER=
	[ $RC -eq 0 ] || [ "$1" = KILL ] || tail -20 "$SCRATCH/server.out"
}

# header NAME FILE: the value of a response header (CR dropped).
header() { grep -i "^$1:" "$2" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
status() { head -1 "$1" | cut -d' ' -f2; }

# still_serving: a well-behaved client gets the index.
still_serving() {
	curl -sS --max-time 5 -o "$SCRATCH/still" "$URL/" && cmp -s "$SCRATCH/still" "$TREE/index.html"
}

start_server --header-timeout 1000 --idle-timeout 2000 --max-conns 4 ||
	{ fail "the server starts"; finish; exit; }
pass "the server starts and listens"

# ---- every response through a strict client's parser (undici: llhttp)
strict=build/strict-http
if [ ! -d $strict/node_modules/undici ]; then
	mkdir -p $strict && cp tests/strict-http/package.json tests/strict-http/package-lock.json $strict/ &&
		(cd $strict && npm ci --ignore-scripts --no-audit --no-fund) >"$SCRATCH/npm.out" 2>&1 ||
		cat "$SCRATCH/npm.out"
fi
cp tests/strict-http/check.mjs $strict/
node $strict/check.mjs "$URL" "$TREE" >"$SCRATCH/strict.out" 2>&1
while read -r verdict what; do
	case $verdict in
	PASS:) pass "strict client: $what" ;;
	FAIL:) fail "strict client: $what" ;;
	esac
done <"$SCRATCH/strict.out"
grep -q '^[0-9]* passed, 0 failed$' "$SCRATCH/strict.out" || { fail "strict client ran to its end"; cat "$SCRATCH/strict.out"; }

# ---- files, byte for byte, with their headers
while read -r path file type; do
	curl -sS --max-time 10 -D "$SCRATCH/h" -o "$SCRATCH/body" "$URL$path"
	size=$(stat -c %s "$TREE/$file")
	if [ "$(status "$SCRATCH/h")" = 200 ] && cmp -s "$SCRATCH/body" "$TREE/$file" &&
			[ "$(header Content-Type "$SCRATCH/h")" = "$type" ] &&
			[ "$(header Content-Length "$SCRATCH/h")" = "$size" ]; then
		pass "GET $path: 200, $size bytes identical to the file, $type"
	else
		fail "GET $path"
		cat "$SCRATCH/h"
	fi
done <<'LIST'
/ index.html text/html; charset=utf-8
/index.html index.html text/html; charset=utf-8
/style.css style.css text/css; charset=utf-8
/app.js app.js text/javascript; charset=utf-8
/data.json data.json application/json
/toro.svg toro.svg image/svg+xml
/favicon.ico favicon.ico image/vnd.microsoft.icon
/img/dot.png img/dot.png image/png
/docs/ docs/index.html text/html; charset=utf-8
/docs/notes.txt docs/notes.txt text/plain; charset=utf-8
/img//./dot.png?v=1 img/dot.png image/png
LIST

curl -sS -D "$SCRATCH/h" -o /dev/null "$URL/"
ETAG=$(header ETag "$SCRATCH/h")
LASTMOD=$(header Last-Modified "$SCRATCH/h")
check "Date is an IMF-fixdate" grep -Eq '^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT' "$SCRATCH/h"
check "ETag is strong and quoted ($ETAG)" grep -Eq '^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$' <<<"$ETAG"
check "Last-Modified is there" [ -n "$LASTMOD" ]

# ---- conditional requests and ranges
code() { curl -sS --max-time 30 -o "$SCRATCH/body" -D "$SCRATCH/h" -w '%{http_code}' "$@"; }
rm -f "$SCRATCH/body"
check "If-None-Match with the ETag: 304" [ "$(code -H "If-None-Match: $ETAG" "$URL/")" = 304 ]
check "  ... with no body" [ ! -s "$SCRATCH/body" ]
check "If-None-Match with W/ and a list: 304" \
	[ "$(code -H "If-None-Match: \"x\", W/$ETAG" "$URL/")" = 304 ]
check "If-None-Match with another tag: 200" [ "$(code -H 'If-None-Match: "x"' "$URL/")" = 200 ]
check "If-Modified-Since Last-Modified: 304" [ "$(code -H "If-Modified-Since: $LASTMOD" "$URL/")" = 304 ]
check "If-Modified-Since 1994: 200" \
	[ "$(code -H 'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT' "$URL/")" = 200 ]
check "Range bytes=0-14 of index.html: 206" [ "$(code -r 0-14 "$URL/")" = 206 ]
check "  ... the bytes of that range" [ "$(cat "$SCRATCH/body")" = "<!DOCTYPE html>" ]
check "  ... Content-Range: bytes 0-14/998" [ "$(header Content-Range "$SCRATCH/h")" = "bytes 0-14/998" ]
tail -c 8 "$TREE/index.html" >"$SCRATCH/want"
check "Range bytes=-8: the last 8 bytes" [ "$(code -r -8 "$URL/")" = 206 ] &&
	check "  ... identical" cmp -s "$SCRATCH/body" "$SCRATCH/want"
tail -c +101 "$TREE/index.html" >"$SCRATCH/want"
check "Range bytes=100-: 206" [ "$(code -r 100- "$URL/")" = 206 ] &&
	check "  ... identical to the file's tail" cmp -s "$SCRATCH/body" "$SCRATCH/want"
check "Range past the end: 416" [ "$(code -r 5000- "$URL/")" = 416 ]
check "  ... Content-Range: bytes */998" [ "$(header Content-Range "$SCRATCH/h")" = "bytes */998" ]
check "several ranges: 200 with the whole file" \
	[ "$(code -r 0-1,5-6 "$URL/")" = 200 ] && check "  ... identical" cmp -s "$SCRATCH/body" "$TREE/index.html"
# The 1 MiB file.
curl -sS --max-time 30 -o "$SCRATCH/body" "$URL/large.txt"
check "GET /large.txt: 1 MiB identical to the file ($(cmp "$SCRATCH/body" "$TREE/large.txt" 2>&1 | head -1))" \
	cmp -s "$SCRATCH/body" "$TREE/large.txt"
check "Range bytes=16-31 of large.txt: 206" [ "$(code -r 16-31 "$URL/large.txt")" = 206 ]
check "  ... the bytes of that range" [ "$(cat "$SCRATCH/body")" = 000000000000001 ]
check "  ... Content-Range: bytes 16-31/1048576" \
	[ "$(header Content-Range "$SCRATCH/h")" = "bytes 16-31/1048576" ]
check "Range bytes=-16: the last line" \
	[ "$(code -r -16 "$URL/large.txt")" = 206 -a "$(cat "$SCRATCH/body")" = 000000000065535 ]
tail -c +500001 "$TREE/large.txt" >"$SCRATCH/want"
check "Range bytes=500000-: 206" [ "$(code -r 500000- "$URL/large.txt")" = 206 ]
check "  ... identical to the file's tail ($(cmp "$SCRATCH/body" "$SCRATCH/want" 2>&1 | head -1))" \
	cmp -s "$SCRATCH/body" "$SCRATCH/want"
check "Range past the end of large.txt: 416" [ "$(code -r 2000000- "$URL/large.txt")" = 416 ]

# ---- errors and redirects
check "missing file: 404" [ "$(code "$URL/nope.html")" = 404 ]
check "the log directory is not served: 404" [ "$(code "$URL/logs/access.log")" = 404 ]
check "a directory without its slash: 301" [ "$(code "$URL/docs")" = 301 ]
check "  ... to /docs/" [ "$(header Location "$SCRATCH/h")" = /docs/ ]
check "POST: 405" [ "$(code -X POST -d x=1 "$URL/")" = 405 ]
check "  ... Allow: GET, HEAD" [ "$(header Allow "$SCRATCH/h")" = "GET, HEAD" ]
check "an unknown method: 501" [ "$(code -X BREW "$URL/")" = 501 ]

# ---- HEAD, HTTP/1.0, keep-alive, pipelining
$RAW $PORT send 'HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' >"$SCRATCH/r"
check "HEAD: 200 with Content-Length 998" grep -q '^Content-Length: 998' "$SCRATCH/r"
check "  ... and nothing after the head" [ "$(tail -c 4 "$SCRATCH/r" | od -An -c | tr -d ' ')" = '\r\n\r\n' ]
check "HTTP/1.0: 200, the server closes" [ "$(code -0 "$URL/")" = 200 ] &&
	check "  ... with Connection: close" [ "$(header Connection "$SCRATCH/h")" = close ]
out=$(curl -sSv --max-time 10 -o /dev/null -o /dev/null -o /dev/null "$URL/" "$URL/style.css" "$URL/app.js" 2>&1)
check "keep-alive: three requests on one connection" [ "$(grep -c 'Re-using existing connection' <<<"$out")" = 2 ]
$RAW $PORT send 'GET /style.css HTTP/1.1\r\nHost: a\r\n\r\nGET /data.json HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' >"$SCRATCH/r"
check "pipelining: three answers in order" \
	[ "$(grep -ac '^HTTP/1.1 200 OK' "$SCRATCH/r")" = 3 ]
check "  ... with both bodies" grep -q '"name": "Toro/C"' "$SCRATCH/r"

# ---- hostile requests: an error, and the server keeps serving
hostile() {  # expected-status description request
	$RAW $PORT send "$3" >"$SCRATCH/r"
	if [ "$(head -1 "$SCRATCH/r" | cut -d' ' -f2)" = "$1" ] && still_serving; then
		pass "hostile: $2: $1, still serving"
	else
		fail "hostile: $2 (got '$(head -1 "$SCRATCH/r")')"
	fi
}
H='Host: a\r\nConnection: close\r\n\r\n'
hostile 400 "../ traversal" "GET /../../etc/passwd HTTP/1.1\r\n$H"
hostile 400 "%2e%2e traversal" "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n$H"
hostile 400 "%2f inside a name" "GET /..%2f..%2fetc%2fpasswd HTTP/1.1\r\n$H"
hostile 400 "backslashes" "GET /..\\\\..\\\\etc\\\\passwd HTTP/1.1\r\n$H"
hostile 400 "%5c backslashes" "GET /..%5c..%5cetc%5cpasswd HTTP/1.1\r\n$H"
hostile 400 "a NUL byte" "GET /index.html%00.txt HTTP/1.1\r\n$H"
hostile 400 "overlong UTF-8 dots" "GET /%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd HTTP/1.1\r\n$H"
hostile 400 "absolute-form to a file URI" "GET file:///etc/passwd HTTP/1.1\r\n$H"
hostile 400 "Content-Length with Transfer-Encoding" \
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
hostile 400 "differing Content-Lengths" \
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx"
hostile 400 "obs-fold" "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n"
hostile 400 "a bare CR" "GET / HTTP/1.1\r\nHost: a\r\nX: 1\rY: 2\r\n\r\n"
hostile 400 "space before the colon" "GET / HTTP/1.1\r\nHost : a\r\n\r\n"
hostile 400 "no Host" "GET / HTTP/1.1\r\n\r\n"
hostile 501 "Transfer-Encoding: chunked" "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
hostile 505 "HTTP/2.0" "GET / HTTP/2.0\r\nHost: a\r\n\r\n"
hostile 413 "a body too big" "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999\r\n\r\n"
hostile 414 "a 9 kB request line" "GET /$(head -c 9000 /dev/zero | tr '\0' a) HTTP/1.1\r\n$H"
hostile 431 "a 9 kB header line" "GET / HTTP/1.1\r\nX: $(head -c 9000 /dev/zero | tr '\0' b)\r\n$H"
hostile 431 "100 header lines" "GET / HTTP/1.1\r\n$(for i in $(seq 100); do printf 'X%d: 1\\r\\n' $i; done)$H"
$RAW $PORT send "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /style.css HTTP/1.1\r\n$H" >"$SCRATCH/r"
check "a GET body is read and dropped: the next request is answered" \
	[ "$(grep -ac '^HTTP/1.1 200 OK' "$SCRATCH/r")" = 2 ]

# ---- slow clients
$RAW $PORT slow 'GET / HTTP/1.1\r\nHost: a\r\n' 6 >"$SCRATCH/r"
check "a head that stops coming: 408 after the header timeout" grep -q '^HTTP/1.1 408' "$SCRATCH/r"
check "  ... and closed within 3 s ($(tail -1 "$SCRATCH/r"))" grep -Eq 'CLOSED after [0-3] s' "$SCRATCH/r"
$RAW $PORT trickle 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' 0.2 8 >"$SCRATCH/r"
check "slowloris (a byte every 0.2 s): 408 at the header deadline" grep -q '^HTTP/1.1 408' "$SCRATCH/r"
check "  ... within 3 s ($(tail -1 "$SCRATCH/r"))" grep -Eq 'CLOSED after [0-3] s' "$SCRATCH/r"
$RAW $PORT slow '' 6 >"$SCRATCH/r"
check "an idle connection closes after the idle timeout, silently" \
	[ "$(cat "$SCRATCH/r" | tr -d '\n')" = "CLOSED after 2 s" ]
check "  ... still serving" still_serving

# ---- the connection bound
$RAW $PORT hold 4 4 >"$SCRATCH/hold" &
holder=$!
for _ in $(seq 100); do grep -q held "$SCRATCH/hold" && break; sleep 0.1; done
sleep 0.5
got=$(code "$URL/")
check "past --max-conns 4: 503 (got $got)" [ "$got" = 503 ]
wait $holder
sleep 2.5    # the held ones end at the idle timeout
check "  ... and served again once they are gone" still_serving

# ---- stop: the log holds one line per request
stop_server INT
check "SIGINT: the server stops with status 0 (got $RC)" [ $RC -eq 0 ]
check "  ... and says so" grep -q "TorowithFileSystem: stopped" "$SCRATCH/server.out"
requests=$(sed -n 's/.* \([0-9]*\) requests .*/\1/p' "$SCRATCH/server.out")
printed=$(grep -c '^10\.0\.2\.2 "' "$SCRATCH/server.out")
logged=$(for f in access.log.3 access.log.2 access.log.1 access.log; do
	debugfs -R "cat /web/logs/$f" "$IMG" 2>/dev/null; done | grep -c '')
check "the access log has exactly one line per request ($logged, $requests counted, $printed printed)" \
	[ "$logged" = "$requests" -a "$logged" = "$printed" -a "$logged" -gt 60 ]
debugfs -R 'cat /web/logs/access.log' "$IMG" 2>/dev/null >"$SCRATCH/log"
check "  ... in Combined Log Format" \
	grep -Eq '^10\.0\.2\.2 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} \+0000\] "GET /style\.css HTTP/1\.1" 200 158 "-" "curl/' "$SCRATCH/log"
check "  ... the hostile lines escaped, one per line" \
	[ "$(grep -c '^10\.0\.2\.2 - - \[' "$SCRATCH/log")" = "$logged" ]
check "e2fsck -fn: the image is clean" quiet e2fsck -fn "$IMG"

# ---- load: wrk with hundreds of connections, clients that leave mid-file,
# slow clients by the hundred; then a clean stop
start_server --quiet --header-timeout 2000 --idle-timeout 5000 || fail "the server starts again"
if command -v wrk >/dev/null; then
	out=$(timeout 60 wrk -t 2 -c 200 -d 3s --timeout 10s "$URL/" 2>&1)
	check "wrk, 200 connections for 3 s: no socket errors ($(grep -o '[0-9]* requests in' <<<"$out"))" \
		[ -n "$out" ] && ! grep -q -e 'Socket errors' -e 'Non-2xx' <<<"$out"
	timeout 60 wrk -t 2 -c 20 -d 2s --timeout 10s "$URL/large.txt" >/dev/null 2>&1
	check "wrk on the 1 MiB file, cut off at its end: still serving" still_serving
fi
if command -v slowhttptest >/dev/null; then
	timeout 60 slowhttptest -c 100 -H -i 1 -r 50 -l 6 -t GET -u "$URL/" -p 3 >/dev/null 2>&1
	check "slowhttptest slowloris (100 connections, 6 s): still serving" still_serving
	timeout 60 slowhttptest -c 50 -X -r 25 -w 10 -y 20 -n 2 -z 32 -k 3 -l 6 -u "$URL/large.txt" -p 3 >/dev/null 2>&1
	check "slowhttptest slow read (50 connections, 6 s): still serving" still_serving
fi

stop_server INT
check "after the load: SIGINT, status 0 (got $RC)" [ $RC -eq 0 ]
check "  ... e2fsck -fn clean" quiet e2fsck -fn "$IMG"

# ---- --duration, a taken port
PORT=$($RAW 0 free)
out=$(timeout 30 $BIN --cpus 1 --disk "$IMG" --net slirp,hostfwd=tcp:127.0.0.1:$PORT-:80 --duration 1 2>&1); rc=$?
check "--duration 1: stops by itself, status 0 (got $rc)" [ $rc -eq 0 ]
check "  ... time is up, stopped" grep -q "time is up" <<<"$out"
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(10)' >"$SCRATCH/taken" &
taker=$!
for _ in $(seq 50); do [ -s "$SCRATCH/taken" ] && break; sleep 0.1; done
PORT=$(cat "$SCRATCH/taken")
out=$(timeout 30 $BIN --cpus 1 --disk "$IMG" --net slirp,hostfwd=tcp:127.0.0.1:$PORT-:80 --duration 5 2>&1); rc=$?
kill $taker 2>/dev/null
check "a taken port: a clear one-line error, status 2 (got $rc: $out)" [ $rc -eq 2 -a "$(grep -c '' <<<"$out")" = 1 ]
check "e2fsck -fn: still clean" quiet e2fsck -fn "$IMG"

# ---- a full disk: the log loses lines (counted), the serving goes on
TOROFS=build/posix/bin/toro-fs
avail=$($TOROFS "$IMG" df | awk 'NR == 2 { print $4 }')
head -c $(( (avail - 100) * 1024 )) /dev/urandom >"$SCRATCH/fill"
$TOROFS "$IMG" put "$SCRATCH/fill" /fill >/dev/null 2>&1
# (no rotation: a rotation would free the oldest log's room)
start_server --quiet --log-max 1000000000 || fail "the server starts on a nearly full disk"
if command -v wrk >/dev/null; then
	out=$(timeout 60 wrk -t 2 -c 50 -d 3s --timeout 10s "$URL/" 2>&1)
	check "a full disk under wrk: no socket errors ($(grep -o '[0-9]* requests in' <<<"$out"))" \
		[ -n "$out" ] && ! grep -q -e 'Socket errors' -e 'Non-2xx' <<<"$out"
fi
check "  ... still serving" still_serving
stop_server INT
check "  ... SIGINT, status 0 (got $RC)" [ $RC -eq 0 ]
check "  ... the lost lines are counted ($(grep -Eo '[0-9]+ lost' "$SCRATCH/server.out"))" \
	grep -Eq 'access log: [0-9]+ lines written, [1-9][0-9]* lost' "$SCRATCH/server.out"
check "  ... e2fsck -fn clean" quiet e2fsck -fn "$IMG"
$TOROFS "$IMG" rm /fill /web/logs/access.log >/dev/null 2>&1

# ---- kill -9 under load: the log ends in a whole line after e2fsck -fy
start_server --quiet || fail "the server starts again"
for i in $(seq 8); do
	(for _ in $(seq 200); do curl -s --max-time 5 -o /dev/null "$URL/" || break; done) &
done
sleep 3
stop_server KILL
wait 2>/dev/null
quiet e2fsck -fy "$IMG"
debugfs -R 'cat /web/logs/access.log' "$IMG" 2>/dev/null >"$SCRATCH/log"
check "kill -9 under load: the log ends in a whole line after e2fsck -fy ($(grep -c '' "$SCRATCH/log") lines)" \
	[ "$(tail -c 1 "$SCRATCH/log" | od -An -c | tr -d ' ')" = '\n' ]
check "  ... and e2fsck -fn is clean then" quiet e2fsck -fn "$IMG"

finish
